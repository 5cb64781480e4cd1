/**
 * Small helpers over a notebook's cells: which cell holds a DOM node, moving a
 * cell's cursor to an editor line, and the cell's PDF viewer elements.
 */
import type { Cell, CodeCell } from '@jupyterlab/cells';
import type { ICellModel } from '@jupyterlab/cells';
import {
  INotebookTracker,
  Notebook,
  NotebookPanel
} from '@jupyterlab/notebook';

import { editorView, flashLine } from './cellMarks';
import { isLatexCellSource } from './latexCells';

/** The class the viewer's front end puts on its element (the output contract, point 4). */
export const VIEWER_SELECTOR = '.cocalc-pdf-viewer';

/** The notebook cell whose node contains `node`, if any. */
export function cellContaining(
  notebook: Notebook,
  node: EventTarget | null
): Cell | null {
  if (!(node instanceof Node)) {
    return null;
  }
  return notebook.widgets.find(cell => cell.node.contains(node)) ?? null;
}

/** The notebook cell widget of a cell model, if the notebook shows it. */
export function cellOfModel(
  notebook: Notebook,
  model: ICellModel
): Cell | null {
  return notebook.widgets.find(cell => cell.model === model) ?? null;
}

/** Whether a cell is a code cell whose first line names `%%cocalc_latex`. */
export function isLatexCell(cell: Cell | null | undefined): cell is CodeCell {
  return (
    !!cell &&
    cell.model.type === 'code' &&
    isLatexCellSource(cell.model.sharedModel.getSource())
  );
}

/** The current notebook and its active cell, when that is a LaTeX cell. */
export function activeLatexCell(
  tracker: INotebookTracker
): { panel: NotebookPanel; cell: CodeCell } | null {
  const panel = tracker.currentWidget;
  const cell = panel?.content.activeCell;
  return panel && isLatexCell(cell) ? { panel, cell } : null;
}

/** The `.cocalc-pdf-viewer` elements in a cell's outputs. */
export function viewerElements(cell: Cell): HTMLElement[] {
  if (cell.model.type !== 'code') {
    return [];
  }
  const outputs = (cell as CodeCell).outputArea.node;
  return Array.from(outputs.querySelectorAll<HTMLElement>(VIEWER_SELECTOR));
}

/**
 * Make `cell` the active cell, put its cursor at the start of editor line
 * `line` (1-based; clamped to the cell's lines), focus it and flash the line.
 */
export async function gotoLine(
  notebook: Notebook,
  cell: Cell,
  line: number
): Promise<void> {
  const index = notebook.widgets.indexOf(cell);
  if (index < 0 || !Number.isFinite(line)) {
    return;
  }
  notebook.activeCellIndex = index;
  // A notebook builds a cell's editor when the cell comes into view.
  await notebook.scrollToCell(cell, 'smart');
  await cell.ready;
  const editor = cell.editor;
  if (!editor) {
    return;
  }
  notebook.mode = 'edit';
  const target = Math.min(Math.max(1, Math.trunc(line)), editor.lineCount);
  const position = { line: target - 1, column: 0 };
  editor.setCursorPosition(position);
  editor.revealPosition(position);
  editor.focus();
  const view = editorView(editor);
  if (view) {
    flashLine(view, target);
  }
}
