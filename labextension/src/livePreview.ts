/**
 * Live preview, the front-end half: while a LaTeX cell is live, each pause in
 * typing of the configured delay sends the cell's whole text to its viewer
 * (`cocalc-magics:live-text`, the output contract point 4). The viewer asks
 * the kernel to recompile and updates itself in place; nothing here runs the
 * cell, so no execution count and no history entry.
 *
 * A cell is live when its viewer said so (`cocalc-magics:live-state`), or the
 * user toggled it with the command, or — until either of those — when its
 * magic line has `--live`.
 */
import type { Cell } from '@jupyterlab/cells';
import type { CodeEditor } from '@jupyterlab/codeeditor';
import { INotebookTracker } from '@jupyterlab/notebook';

import { cellOfModel, isLatexCell, viewerElements } from './cellTools';
import { currentSettings } from './settings';

export const LIVE_TEXT_EVENT = 'cocalc-magics:live-text';

/** Whether a `%%cocalc_latex` magic line asks for live preview. */
export function magicLineAsksLive(source: string): boolean {
  const firstLine = source.split('\n', 1)[0];
  return /(^|\s)--live(\s|=|$)/.test(firstLine);
}

export class LivePreview {
  constructor(private readonly tracker: INotebookTracker) {}

  /** Whether the cell's text goes to its viewer after typing pauses. */
  isLive(cell: Cell): boolean {
    if (!isLatexCell(cell)) {
      return false;
    }
    const chosen = this.chosen.get(cell.model);
    return chosen ?? magicLineAsksLive(cell.model.sharedModel.getSource());
  }

  /** Start or stop watching a cell (its viewer's toggle or the command). */
  setLive(cell: Cell, live: boolean): void {
    this.chosen.set(cell.model, live);
    if (!live) {
      this.cancel(cell.model);
    }
  }

  /** Hears of every edit of an inline editor's text (cellMarks). */
  edited(model: CodeEditor.IModel): void {
    this.cancel(model);
    const delay = currentSettings.livePreviewDelay;
    this.timers.set(
      model,
      window.setTimeout(() => {
        this.timers.delete(model);
        this.send(model);
      }, delay)
    );
  }

  private send(model: CodeEditor.IModel): void {
    const cell = this.cellOf(model);
    if (!cell || !this.isLive(cell)) {
      return;
    }
    const text = cell.model.sharedModel.getSource();
    for (const viewer of viewerElements(cell)) {
      viewer.dispatchEvent(
        new CustomEvent(LIVE_TEXT_EVENT, {
          detail: { text },
          bubbles: true,
          composed: true
        })
      );
    }
  }

  private cellOf(model: CodeEditor.IModel): Cell | null {
    let found: Cell | null = null;
    this.tracker.forEach(panel => {
      found ??= cellOfModel(panel.content, model as Cell['model']);
    });
    return found;
  }

  private cancel(model: CodeEditor.IModel): void {
    const timer = this.timers.get(model);
    if (timer !== undefined) {
      window.clearTimeout(timer);
      this.timers.delete(model);
    }
  }

  private readonly chosen = new WeakMap<CodeEditor.IModel, boolean>();
  private readonly timers = new Map<CodeEditor.IModel, number>();
}
