/** One case handed by an importer (DICOM, MONAI datalist, BIDS) to `writeImportedDataset`. */
export interface ImportCase {
  id: string;                 // safe id
  image: string;              // absolute path of a NIfTI file (.nii/.nii.gz) to copy into the dataset
  mask?: string;              // absolute NIfTI path
  maskStamp?: string;         // a stamp of the mask's source to fingerprint instead of the mask file (DICOM: the SEG file or folder)
  report?: string;            // report text (not a path)
  location?: string; marker?: string; cohort?: 'internal' | 'external';
  fold?: number;              // a fold given by the source (MONAI datalist)
  metadata?: Record<string, string>;
}
