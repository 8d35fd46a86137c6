// The part of the npm package dcmjs (no types of its own) that the DICOM-SEG
// reader uses: its DICOM Part 10 parser and its naturalisation of a dataset
// into keyword-named fields.
declare module 'dcmjs' {
  /** A parsed Part 10 file: the file meta group and the dataset, both keyed by tag ("00080060"). */
  export interface DicomDict {
    meta: Record<string, unknown>;
    dict: Record<string, unknown>;
  }
  export interface ReadFileOptions {
    ignoreErrors?: boolean;
    /** stop after this tag ("00080060"); with stopOnGreaterTag also at the first tag past it */
    untilTag?: string | null;
    stopOnGreaterTag?: boolean;
    includeUntilTagValue?: boolean;
    noCopy?: boolean;
    forceStoreRaw?: boolean;
  }
  export const data: {
    DicomMessage: {
      /** Parses a Part 10 file (128-byte preamble, "DICM", meta group, dataset); throws on a malformed one. */
      readFile(buffer: ArrayBuffer, options?: ReadFileOptions): DicomDict;
    };
    DicomMetaDictionary: {
      /** Tag-keyed dataset → keyword-keyed (PixelData, SegmentSequence, ...); sequences become arrays of datasets. */
      naturalizeDataset(dataset: Record<string, unknown>): Record<string, unknown>;
    };
  };
  export const log: {
    setLevel(level: 'trace' | 'debug' | 'info' | 'warn' | 'error' | 'silent'): void;
  };
}
