import { packageRootOf } from '../engine/util/package-root';

/** The installed package's root (works from dist/ bundles and from sources). */
export function packageRoot(from: string = __dirname): string {
  return packageRootOf(from);
}
