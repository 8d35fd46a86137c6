// A progress notification per run, with Cancel (the run stops at its next
// step boundary and stays resumable), and a message when it ends.
import * as vscode from 'vscode';
import { describeProgress, fractionDone, type Job } from '../runs/job';
import type { RunManager } from '../runs/run-manager';

export function showRunProgress(manager: RunManager, job: Job, log: vscode.LogOutputChannel): void {
  void vscode.window.withProgress(
    { location: vscode.ProgressLocation.Notification, title: job.label, cancellable: true },
    (progress, token) =>
      new Promise<void>((resolve) => {
        let reported = 0;
        const update = (j: Job) => {
          if (j.id !== job.id) return;
          const f = fractionDone(j.progress);
          const increment = f !== undefined ? Math.max(0, f * 100 - reported) : undefined;
          if (f !== undefined) reported = Math.max(reported, f * 100);
          progress.report({ message: describeProgress(j), ...(increment ? { increment } : {}) });
        };
        const sub = manager.onDidChange(update);
        token.onCancellationRequested(() => manager.stop(job.id));
        update(job);
        void manager.whenSettled(job.id).then((j) => {
          sub.dispose();
          resolve();
          void announce(j, log);
        });
      }),
  );
}

async function announce(job: Job, log: vscode.LogOutputChannel): Promise<void> {
  if (job.status === 'done') {
    const actions = job.runDir ? ['Open Results', 'Show Log'] : ['Show Log'];
    const choice = await vscode.window.showInformationMessage(`${job.label}: done`, ...actions);
    if (choice === 'Show Log') log.show(true);
    if (choice === 'Open Results') await vscode.commands.executeCommand('mrcl.openResults', job);
  } else if (job.status === 'cancelled') {
    const choice = await vscode.window.showWarningMessage(`${job.label}: cancelled${job.runDir ? ' (resumable)' : ''}`, 'Show Log');
    if (choice) log.show(true);
  } else if (job.status === 'failed') {
    const first = (job.error ?? 'failed').split('\n')[0];
    const choice = await vscode.window.showErrorMessage(`${job.label}: ${first}`, 'Show Log');
    if (choice) log.show(true);
  }
}
