// The parts of npm nrrd-js (an independent NRRD reader) the tests use.
declare module 'nrrd-js' {
  export interface ParsedNrrd {
    type: string;
    dimension: number;
    space?: string;
    sizes: number[];
    spaceDirections?: (number[] | null)[];
    spaceOrigin?: number[];
    kinds?: string[];
    encoding: string;
    /** decoded voxels (raw and ascii encodings only) */
    data?: ArrayLike<number>;
    /** the bytes after the header */
    buffer?: ArrayBuffer;
    /** key:=value pairs */
    keys: Record<string, string>;
  }
  export function parse(buffer: ArrayBuffer | Uint8Array): ParsedNrrd;
}
