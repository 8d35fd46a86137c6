// The MRI viewer's host side: a webview showing one volume (custom editor
// for .nii/.nii.gz) or one case of a run with its overlays (case viewer,
// restored after reload by its serializer). Volumes go as webview URLs.
import * as vscode from 'vscode';
import { basename, dirname, join } from 'node:path';
import type { HeatmapColormap, ViewerLoad, ViewerProtocol, ViewerVolume } from '../../shared/webview-protocol';
import { Messenger } from './messenger';
import { heatmapDirs, locateCase, type CaseFiles } from './run-case';
import { setPanelHtml, volumeUrl } from './webview-setup';
import type { CaseLink, CaseLinks } from './case-link';

export const NIFTI_EDITOR = 'mrcl.niftiViewer';
export const CASE_VIEWER = 'mrcl.caseViewer';

function viewerSettings(): Pick<ViewerLoad, 'colormap' | 'opacity' | 'showMask'> {
  const c = vscode.workspace.getConfiguration('mrcl');
  return { colormap: c.get<HeatmapColormap>('viewer.colormap', 'hot'), opacity: c.get<number>('viewer.overlayOpacity', 0.5), showMask: c.get<boolean>('viewer.showMask', true) };
}

function volumesOf(webview: vscode.Webview, files: CaseFiles): ViewerVolume[] {
  const out: ViewerVolume[] = [];
  const add = (role: ViewerVolume['role'], path: string | undefined) => path && out.push({ role, url: volumeUrl(webview, path), name: basename(path) });
  add('image', files.image);
  add('mask', files.mask);
  add('heatmap', files.heatmap);
  add('binary', files.binary);
  return out;
}

/** "pretrained · fold-2" for finetune/pretrained/fold-2. */
export function foldLabel(fold: string): string {
  return `${basename(dirname(fold))} · ${basename(fold)}`;
}

/** Shows one case of a run in `panel` (the heatmap of `fold` when given), linked with its report panel. */
export function showCase(panel: vscode.WebviewPanel, extensionUri: vscode.Uri, links: CaseLinks, runDir: string, caseId: string, fold?: string): vscode.Disposable {
  let files = locateCase(runDir, caseId, fold);
  const link: CaseLink = links.get(runDir, caseId, files.attention); // the attention file does not depend on the fold
  const title = `${caseId} · ${basename(runDir)}`;
  panel.title = title;
  // every fold's heatmap may be shown: the page's CSP and resource roots cover them all
  const folds = heatmapDirs(runDir, caseId);
  const paths = [files.image, files.mask, ...folds.flatMap((f) => [join(f, 'heatmaps', `${caseId}.heatmap.nii.gz`), join(f, 'heatmaps', `${caseId}.binary.nii.gz`)])].filter((p): p is string => p !== undefined);
  setPanelHtml(panel.webview, extensionUri, 'viewer', title, paths);
  const postLoad = () => {
    if (!files.image) {
      m.post('status', { kind: 'error', message: `No image for case "${caseId}": the run's manifest (${files.runDir}/config.json → data.manifest) does not list it or cannot be read.` });
      return;
    }
    m.post('load', {
      title,
      caseId,
      volumes: volumesOf(panel.webview, files),
      threshold: files.threshold,
      ...(files.topPercent !== undefined ? { topPercent: files.topPercent } : {}),
      restore: { runDir, caseId, ...(files.fold ? { fold: files.fold } : {}) },
      heatmaps: folds.map((f) => ({ fold: f, label: foldLabel(f) })),
      ...(files.fold ? { fold: files.fold } : {}),
      ...viewerSettings(),
      ...(files.engineDice ? { engineDice: files.engineDice } : {}),
    });
  };
  const m = new Messenger<ViewerProtocol>(
    panel.webview,
    {
      pointSelected: ({ voxel, dims }) => link.pointSelected(voxel, dims),
      chooseHeatmap: ({ fold: f }) => {
        if (!folds.includes(f)) throw new Error(`${f} holds no heatmap of ${caseId}`);
        files = locateCase(runDir, caseId, f);
        postLoad();
      },
    },
    {},
    (message) => void vscode.window.showErrorMessage(`Viewer ${title}: ${message}`),
  );
  link.viewer = { patchOverlay: (p) => m.post('patchOverlay', p), goToPatch: (p) => m.post('goToPatch', p) };
  m.onReady(postLoad);
  return new vscode.Disposable(() => {
    m.dispose();
    link.viewer = undefined;
    links.release(link);
  });
}

export function openCaseViewer(extensionUri: vscode.Uri, links: CaseLinks, runDir: string, caseId: string, fold?: string): vscode.WebviewPanel {
  const panel = vscode.window.createWebviewPanel(CASE_VIEWER, caseId, vscode.ViewColumn.Active, {
    enableScripts: true,
    retainContextWhenHidden: true, // WebGL context: reloading volumes on every tab switch is slow
  });
  const d = showCase(panel, extensionUri, links, runDir, caseId, fold);
  panel.onDidDispose(() => d.dispose());
  return panel;
}

/** Restores case viewers after a reload (their state: runDir and caseId). */
export function caseViewerSerializer(extensionUri: vscode.Uri, links: CaseLinks): vscode.WebviewPanelSerializer {
  return {
    async deserializeWebviewPanel(panel, state: unknown) {
      const s = (state ?? {}) as { runDir?: unknown; caseId?: unknown; fold?: unknown };
      if (typeof s.runDir !== 'string' || typeof s.caseId !== 'string') {
        panel.webview.html = '<p>This viewer cannot be restored: open the case again from its run.</p>';
        return;
      }
      const d = showCase(panel, extensionUri, links, s.runDir, s.caseId, typeof s.fold === 'string' ? s.fold : undefined);
      panel.onDidDispose(() => d.dispose());
    },
  };
}

/** Read-only custom editor for .nii / .nii.gz (priority "option": other NIfTI viewers stay the default). */
export class NiftiEditorProvider implements vscode.CustomReadonlyEditorProvider {
  constructor(private readonly extensionUri: vscode.Uri) {}

  openCustomDocument(uri: vscode.Uri): vscode.CustomDocument {
    return { uri, dispose: () => undefined };
  }

  resolveCustomEditor(document: vscode.CustomDocument, panel: vscode.WebviewPanel): void {
    const path = document.uri.fsPath;
    const name = basename(path);
    setPanelHtml(panel.webview, this.extensionUri, 'viewer', name, [path]);
    const m = new Messenger<ViewerProtocol>(panel.webview, {}, {}, (message) => void vscode.window.showErrorMessage(`Viewer ${name}: ${message}`));
    m.onReady(() =>
      m.post('load', { title: name, volumes: [{ role: 'image', url: volumeUrl(panel.webview, path), name }], threshold: 0.01, ...viewerSettings() }),
    );
    panel.onDidDispose(() => m.dispose());
  }
}
