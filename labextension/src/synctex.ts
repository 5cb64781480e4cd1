/**
 * Forward SyncTeX, the front-end half: "Show in PDF" sends the cursor line to
 * the cell's viewer (`cocalc-magics:show-line`, the output contract point 4),
 * which asks the kernel for the page and marks the spot. Inverse SyncTeX (the
 * viewer's `cocalc-magics:goto-line`) is handled in latexOutputs.ts.
 */
import type { Cell } from '@jupyterlab/cells';

import { viewerElements } from './cellTools';

export const SHOW_LINE_EVENT = 'cocalc-magics:show-line';

/**
 * Dispatch the cell's cursor line (1-based, line 1 is the magic line) on each
 * of its viewer elements; false when the cell has no viewer or no editor.
 */
export function showInPdf(cell: Cell): boolean {
  const editor = cell.editor;
  const viewers = viewerElements(cell);
  if (!editor || viewers.length === 0) {
    return false;
  }
  const line = editor.getCursorPosition().line + 1;
  for (const viewer of viewers) {
    viewer.dispatchEvent(
      new CustomEvent(SHOW_LINE_EVENT, {
        detail: { line },
        bubbles: true,
        composed: true
      })
    );
  }
  return true;
}
