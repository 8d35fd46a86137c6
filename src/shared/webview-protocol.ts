// Messages between the extension host and its webview panels. Each panel has
// a map from message name to payload in each direction, and a map of
// requests (webview → host, answered by id with a result or an error). The
// host posts nothing before the webview says `ready`. Types only.
import type { EngineEvent, TimedEvent } from './events';
import type { ResultsDoc } from '../engine/results/types';

export type Vec3 = [number, number, number];

/** A message of map M: `{ type: K, payload: M[K] }` for one name K. */
export type MessageOf<M> = { [K in keyof M]: { type: K; payload: M[K] } }[keyof M];

export interface RequestSpec {
  params: unknown;
  result: unknown;
}
export type RequestMap = Record<string, RequestSpec>;

/** webview → host: a request with an id the response carries back. */
export type RequestOf<R extends RequestMap> = { [K in keyof R]: { type: 'request'; id: number; method: K; params: R[K]['params'] } }[keyof R];

/** host → webview: the answer to request `id`. */
export type ResponseOf<R extends RequestMap> =
  | { [K in keyof R]: { type: 'response'; id: number; method: K; ok: true; result: R[K]['result'] } }[keyof R]
  | { type: 'response'; id: number; method: keyof R; ok: false; error: string };

/** What every webview says: `ready` once its listeners are in place, `error` for a failure it shows. */
export interface CommonToHost {
  ready: Record<string, never>;
  error: { message: string };
}

/** What the host may always post: a message shown in place of (or above) the panel's content. */
export interface CommonToWebview {
  status: { kind: 'progress' | 'error' | 'info'; message: string } | null;
}

/** A panel's three maps, and the unions of the messages each side receives. */
export interface PanelProtocol<ToWebview, ToHost, Requests extends RequestMap> {
  toWebview: ToWebview & CommonToWebview;
  toHost: ToHost & CommonToHost;
  requests: Requests;
}
export type HostInbound<P extends PanelProtocol<object, object, RequestMap>> = MessageOf<P['toHost']> | RequestOf<P['requests']>;
export type WebviewInbound<P extends PanelProtocol<object, object, RequestMap>> = MessageOf<P['toWebview']> | ResponseOf<P['requests']>;

// ---- MRI viewer ----

export type VolumeRole = 'image' | 'mask' | 'heatmap' | 'binary';
export type ViewerLayout = 'axial' | 'coronal' | 'sagittal' | 'multiplanar' | 'render';
export type HeatmapColormap = 'hot' | 'warm' | 'plasma' | 'viridis' | 'inferno' | 'jet';

export interface ViewerVolume {
  role: VolumeRole;
  /** an asWebviewUri URL (never the bytes) */
  url: string;
  /** the file name, which tells NiiVue the format (.nii / .nii.gz) */
  name: string;
}

export interface ViewerLoad {
  title: string;
  caseId?: string;
  volumes: ViewerVolume[];
  /** the run's explain.threshold: where the threshold slider starts */
  threshold: number;
  /** the run's explain.rule is 'topPercent': the slider starts where the k % highest heatmap voxels pass */
  topPercent?: number;
  colormap: HeatmapColormap;
  opacity: number;
  showMask: boolean;
  /** the engine's Dice for this case (predictions.csv), shown when a live one cannot be computed */
  engineDice?: { dice2d: number | null; dice3d: number | null };
  /** kept in the webview's state so the panel serializer can reopen the case */
  restore?: { runDir: string; caseId: string; fold?: string };
  /** the fine-tuned folds with a heatmap of this case (one per init in k-fold CV), to switch between */
  heatmaps?: { fold: string; label: string }[];
  /** the fold whose heatmap is shown */
  fold?: string;
}

/** A word's patch-attention map: values on the layer3 grid, Volume order (x fastest). */
export interface PatchOverlay {
  word: string;
  index: number;
  grid: Vec3;
  values: number[];
  /** move the crosshair to the map's strongest voxel (a link that opens the viewer "there") */
  focus?: boolean;
}

export interface ViewerToWebview {
  load: ViewerLoad;
  /** null removes the word overlay */
  patchOverlay: PatchOverlay | null;
  /** move the crosshair (voxel of the background image) */
  goTo: { voxel: Vec3 };
  /** move the crosshair to the centre of a patch: cell (x, y, z) of the grid, placed on the image as the patch maps are (align corners) */
  goToPatch: { cell: Vec3; grid: Vec3 };
}

export interface ViewerToHost {
  /** the user clicked a point: voxel of the background image, with its dims */
  pointSelected: { voxel: Vec3; dims: Vec3 };
  /** show the heatmap of another fine-tuned fold (one of ViewerLoad.heatmaps) */
  chooseHeatmap: { fold: string };
}

export type ViewerRequests = Record<never, RequestSpec>;
export type ViewerProtocol = PanelProtocol<ViewerToWebview, ViewerToHost, ViewerRequests>;

// ---- report attention ----

export interface ReportLoad {
  caseId: string;
  words: string[];
  /** per word: the share of the image's attention it receives (sums to 1) */
  weights: number[];
  topK: number;
  /** kept in the webview's state so the panel serializer can reopen it */
  restore: { runDir: string; caseId: string };
}

/** One patch's attention over the words (S_A row), for the voxel under the viewer's crosshair. */
export interface PatchShading {
  /** p = (x·Y + y)·Z + z */
  patch: number;
  /** its cell (x, y, z) on `grid`: what the panel shows (patch-name.ts), never the bare index */
  cell: Vec3;
  grid: Vec3;
  voxel: Vec3;
  weights: number[];
}

/** A word's heaviest patches (S_B row), heaviest first, named by cell and side. */
export interface WordPatches {
  index: number;
  word: string;
  grid: Vec3;
  patches: { patch: number; name: string; weight: number }[];
}

export interface ReportToWebview {
  load: ReportLoad;
  /** shade the words by one patch's attention (S_A row), or back to the whole-image weights (null) */
  patchWeights: PatchShading | null;
  /** the chosen word's top patches (null: no word chosen) */
  wordPatches: WordPatches | null;
}

export interface ReportToHost {
  /** a word was chosen: show its patch map in the viewer (null clears it) */
  wordSelected: { index: number } | null;
  /** a patch of the word's list was chosen: put the viewer's crosshair on it (opening the viewer) */
  patchChosen: { patch: number };
  openViewer: Record<string, never>;
}

export type ReportRequests = Record<never, RequestSpec>;
export type ReportProtocol = PanelProtocol<ReportToWebview, ReportToHost, ReportRequests>;

// ---- training dashboard ----

export interface DashboardToWebview {
  /** the run's history (events.jsonl), replacing what is shown */
  reset: { title: string; runDir: string; events: TimedEvent[] };
  /** live events from the run manager */
  events: { events: EngineEvent[] };
}

export type DashboardToHost = Record<never, never>;
export type DashboardRequests = Record<never, RequestSpec>;
export type DashboardProtocol = PanelProtocol<DashboardToWebview, DashboardToHost, DashboardRequests>;

// ---- results ----

export type ExportFormat = 'csv' | 'markdown' | 'latex';

export interface ResultsToWebview {
  load: { doc: ResultsDoc; path: string };
}

export type ResultsToHost = Record<never, never>;

// a type alias (not an interface) so it has no string index signature
export type ResultsRequests = {
  /** writes the export beside results.json after a save dialog; the saved path, or null when cancelled */
  export: { params: { format: ExportFormat; tableId?: string }; result: { path: string } | null };
  /** asks for a second run's results.json and shows both side by side */
  compare: { params: Record<string, never>; result: { compared: string } | null };
};

export type ResultsProtocol = PanelProtocol<ResultsToWebview, ResultsToHost, ResultsRequests>;

/** The state a webview keeps with setState so a reload restores the panel. */
export interface PanelState {
  /** what the host needs to reopen the panel: a file or run folder path */
  source?: string;
  [key: string]: unknown;
}
