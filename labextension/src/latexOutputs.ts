/**
 * What the extension does with a `%%cocalc_latex` cell's outputs (the LaTeX
 * output contract, v1):
 * - the `application/vnd.cocalc-magics.latex+json` entry's diagnostics become
 *   gutter marks in the cell's editor, replaced whenever the outputs change;
 * - a click on a `.cocalc-diagnostic` element moves the cursor to its line
 *   (or opens its file when it is not the cell);
 * - the viewer's `cocalc-magics:goto-line` (inverse SyncTeX) moves the cursor;
 * - the viewer's `cocalc-magics:live-state` starts or stops live preview.
 */
import { JupyterFrontEnd } from '@jupyterlab/application';
import type {
  Cell,
  CodeCell,
  ICellModel,
  ICodeCellModel
} from '@jupyterlab/cells';
import type { CodeEditor } from '@jupyterlab/codeeditor';
import { PathExt } from '@jupyterlab/coreutils';
import { INotebookTracker, NotebookPanel } from '@jupyterlab/notebook';

import { ILineDiagnostic, editorView, setDiagnostics } from './cellMarks';
import { cellContaining, cellOfModel, gotoLine } from './cellTools';
import { LivePreview } from './livePreview';
import { currentSettings } from './settings';

export const LATEX_MIME = 'application/vnd.cocalc-magics.latex+json';
export const GOTO_LINE_EVENT = 'cocalc-magics:goto-line';
export const LIVE_STATE_EVENT = 'cocalc-magics:live-state';
const DIAGNOSTIC_SELECTOR = '.cocalc-diagnostic';

/** The diagnostics of the cell itself (file "cell") in its outputs' LaTeX entries. */
export function cellDiagnostics(model: ICodeCellModel): ILineDiagnostic[] {
  const found: ILineDiagnostic[] = [];
  for (let index = 0; index < model.outputs.length; index++) {
    const entry = model.outputs.get(index).data[LATEX_MIME] as
      { diagnostics?: unknown } | undefined;
    const diagnostics = entry?.diagnostics;
    if (!Array.isArray(diagnostics)) {
      continue;
    }
    for (const item of diagnostics as Record<string, unknown>[]) {
      const { severity, line, file, message } = item ?? {};
      if (
        (severity === 'error' || severity === 'warning') &&
        typeof line === 'number' &&
        (file === undefined || file === 'cell')
      ) {
        found.push({ severity, line, message: String(message ?? '') });
      }
    }
  }
  return found;
}

/** The raw diagnostics list of one output's LaTeX entry (or null). */
function entryDiagnostics(data: Record<string, unknown>): unknown[] | null {
  const entry = data[LATEX_MIME] as { diagnostics?: unknown } | undefined;
  return Array.isArray(entry?.diagnostics) ? entry.diagnostics : null;
}

/**
 * Where a clicked `.cocalc-diagnostic` points: its `data-cocalc-*` attributes,
 * or, when JupyterLab's sanitizer removed them (the HTML of an untrusted
 * notebook keeps `class` but no `data-` attributes), the diagnostic at the same
 * position in the same output's LaTeX entry — if the counts agree.
 */
function entryTarget(
  entry: Element,
  cell: Cell
): { file: string; line: number } | null {
  const line = entry.getAttribute('data-cocalc-line');
  const file = entry.getAttribute('data-cocalc-file');
  if (line !== null || file !== null) {
    return line === null && (file ?? 'cell') === 'cell'
      ? null
      : { file: file ?? 'cell', line: Number(line) };
  }
  if (
    entry.hasAttribute('data-cocalc-severity') ||
    cell.model.type !== 'code'
  ) {
    return null; // trusted HTML: an entry with no line and no file
  }
  const outputArea = (cell as CodeCell).outputArea;
  const index = outputArea.widgets.findIndex(output =>
    output.node.contains(entry)
  );
  if (index < 0 || index >= outputArea.model.length) {
    return null;
  }
  const diagnostics = entryDiagnostics(outputArea.model.get(index).data);
  const entries = Array.from(
    outputArea.widgets[index].node.querySelectorAll(DIAGNOSTIC_SELECTOR)
  );
  const item =
    diagnostics?.length === entries.length
      ? (diagnostics[entries.indexOf(entry)] as Record<string, unknown>)
      : null;
  if (!item || typeof item.line !== 'number') {
    return null;
  }
  return {
    file: typeof item.file === 'string' ? item.file : 'cell',
    line: item.line
  };
}

/** Wires one notebook panel: its cells' outputs and its DOM events. */
export function connectNotebook(
  app: JupyterFrontEnd,
  panel: NotebookPanel,
  live: LivePreview
): void {
  const notebook = panel.content;

  const refreshMarks = (model: ICellModel): void => {
    if (model.type !== 'code') {
      return;
    }
    const cell = cellOfModel(notebook, model);
    const diagnostics = currentSettings.gutterMarks
      ? cellDiagnostics(model as ICodeCellModel)
      : [];
    setDiagnostics(model, editorView(cell?.editor), diagnostics);
  };
  const watchCell = (model: ICellModel): void => {
    if (model.type !== 'code') {
      return;
    }
    const outputs = (model as ICodeCellModel).outputs;
    outputs.changed.connect(() => refreshMarks(model));
    refreshMarks(model);
  };
  const watchCells = (): void => {
    const cells = notebook.model?.cells;
    if (!cells) {
      return;
    }
    for (const model of cells) {
      watchCell(model);
    }
    cells.changed.connect((_, change) => {
      if (change.type === 'add') {
        change.newValues.forEach(watchCell);
      }
    });
  };
  void panel.context.ready.then(watchCells);
  const refreshAll = (): void => {
    for (const model of notebook.model?.cells ?? []) {
      refreshMarks(model);
    }
  };
  refreshAllMarks.add(refreshAll);
  panel.disposed.connect(() => refreshAllMarks.delete(refreshAll));

  notebook.node.addEventListener('click', event => {
    const target = event.target as Element | null;
    const entry = target?.closest?.(DIAGNOSTIC_SELECTOR);
    const cell = cellContaining(notebook, entry ?? null);
    const where = entry && cell && entryTarget(entry, cell);
    if (!where) {
      return;
    }
    if (where.file === 'cell') {
      void gotoLine(notebook, cell!, where.line);
    } else {
      void openFileAt(app, panel, where.file, where.line);
    }
  });
  notebook.node.addEventListener(GOTO_LINE_EVENT, event => {
    const detail = (event as CustomEvent).detail ?? {};
    const cell = cellContaining(notebook, event.target);
    if (!cell || typeof detail.line !== 'number') {
      return;
    }
    if (detail.file && detail.file !== 'cell') {
      void openFileAt(app, panel, String(detail.file), detail.line);
    } else {
      void gotoLine(notebook, cell, detail.line);
    }
  });
  notebook.node.addEventListener(LIVE_STATE_EVENT, event => {
    const detail = (event as CustomEvent).detail ?? {};
    const cell = cellContaining(notebook, event.target);
    if (cell && typeof detail.live === 'boolean') {
      live.setLive(cell, detail.live);
    }
  });
}

/** Callbacks that redraw every notebook's marks (the gutter setting changed). */
export const refreshAllMarks = new Set<() => void>();

/** The parts of a document widget that `docmanager:open` returns which a text file's editor has. */
interface IOpenedEditor {
  context?: { ready: Promise<void> };
  content?: {
    editor?: Pick<CodeEditor.IEditor, 'setCursorPosition' | 'revealPosition'>;
  };
}

/**
 * Open a file named by a diagnostic (an `\input` file, or the `.tex` file of
 * `%cocalc_latex FILE.tex`), relative to the notebook's directory, at `line`.
 * Names that leave the server's root are refused.
 */
async function openFileAt(
  app: JupyterFrontEnd,
  panel: NotebookPanel,
  file: string,
  line: number
): Promise<void> {
  if (file.startsWith('/')) {
    return;
  }
  const path = PathExt.join(PathExt.dirname(panel.context.path), file);
  if (path.startsWith('..')) {
    return;
  }
  const widget = (await app.commands.execute('docmanager:open', {
    path
  })) as IOpenedEditor | null;
  await widget?.context?.ready;
  const editor = widget?.content?.editor;
  if (editor && Number.isFinite(line) && line >= 1) {
    const position = { line: line - 1, column: 0 };
    editor.setCursorPosition(position);
    editor.revealPosition(position);
  }
}

/** Wires every notebook the tracker sees, now and later. */
export function connectNotebooks(
  app: JupyterFrontEnd,
  tracker: INotebookTracker,
  live: LivePreview
): void {
  tracker.forEach(panel => connectNotebook(app, panel, live));
  tracker.widgetAdded.connect((_, panel) => connectNotebook(app, panel, live));
}
