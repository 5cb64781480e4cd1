/**
 * What the extension draws in a cell's CodeMirror editor: TeX error (red) and
 * warning (amber) marks in a gutter of their own, with the messages on hover,
 * and a short flash of the line the cursor was sent to.
 *
 * The marks come from the `application/vnd.cocalc-magics.latex+json` entry of
 * the cell's outputs (docs: the LaTeX output contract, point 2); a mark goes
 * away when its line is edited and all of them are replaced when the outputs
 * change (a re-run clears the outputs first).
 */
import {
  Compartment,
  Extension,
  RangeSet,
  RangeSetBuilder,
  StateEffect,
  StateField,
  Text
} from '@codemirror/state';
import {
  Decoration,
  DecorationSet,
  EditorView,
  GutterMarker,
  gutter
} from '@codemirror/view';
import type { CodeEditor } from '@jupyterlab/codeeditor';
import {
  CodeMirrorEditor,
  EditorExtensionRegistry,
  IEditorExtensionRegistry
} from '@jupyterlab/codemirror';

export type Severity = 'error' | 'warning';

/** One diagnostic on an editor line (line 1 is the `%%cocalc_latex` line). */
export interface ILineDiagnostic {
  severity: Severity;
  line: number;
  message: string;
}

/** How long a line flashes after the cursor was sent there. */
const FLASH_MS = 1200;

class DiagnosticMarker extends GutterMarker {
  constructor(
    readonly severity: Severity,
    readonly messages: string
  ) {
    super();
  }

  eq(other: GutterMarker): boolean {
    return (
      other instanceof DiagnosticMarker &&
      other.severity === this.severity &&
      other.messages === this.messages
    );
  }

  toDOM(): Node {
    const mark = document.createElement('span');
    mark.className = `cocalc-gutter-mark cocalc-gutter-${this.severity}`;
    mark.dataset.cocalcSeverity = this.severity;
    mark.title = this.messages;
    return mark;
  }
}

/** One marker per line: red when any of its diagnostics is an error. */
function markersFor(
  doc: Text,
  diagnostics: readonly ILineDiagnostic[]
): RangeSet<GutterMarker> {
  const byLine = new Map<number, ILineDiagnostic[]>();
  for (const diagnostic of diagnostics) {
    if (diagnostic.line >= 1 && diagnostic.line <= doc.lines) {
      const onLine = byLine.get(diagnostic.line) ?? [];
      onLine.push(diagnostic);
      byLine.set(diagnostic.line, onLine);
    }
  }
  const builder = new RangeSetBuilder<GutterMarker>();
  for (const line of [...byLine.keys()].sort((a, b) => a - b)) {
    const onLine = byLine.get(line)!;
    const severity = onLine.some(d => d.severity === 'error')
      ? 'error'
      : 'warning';
    const messages = onLine.map(d => `${d.severity}: ${d.message}`).join('\n');
    const start = doc.line(line).from;
    builder.add(start, start, new DiagnosticMarker(severity, messages));
  }
  return builder.finish();
}

const setDiagnosticsEffect = StateEffect.define<readonly ILineDiagnostic[]>();

const diagnosticsField = StateField.define<RangeSet<GutterMarker>>({
  create: () => RangeSet.empty,
  update: (markers, transaction) => {
    markers = markers.map(transaction.changes);
    if (transaction.docChanged) {
      const doc = transaction.newDoc;
      transaction.changes.iterChangedRanges((_fromA, _toA, fromB, toB) => {
        // Editing a line means its mark no longer describes it.
        markers = markers.update({
          filter: () => false,
          filterFrom: doc.lineAt(fromB).from,
          filterTo: doc.lineAt(toB).to
        });
      });
    }
    for (const effect of transaction.effects) {
      if (effect.is(setDiagnosticsEffect)) {
        markers = markersFor(transaction.newDoc, effect.value);
      }
    }
    return markers;
  }
});

const diagnosticsGutter = gutter({
  class: 'cocalc-diagnostic-gutter',
  markers: view => view.state.field(diagnosticsField)
});

/**
 * The gutter is only in the editor while it has had marks: every other cell
 * of the notebook keeps its layout. One compartment serves all editors.
 */
const gutterCompartment = new Compartment();

const flashEffect = StateEffect.define<number | null>();

const flashField = StateField.define<DecorationSet>({
  create: () => Decoration.none,
  update: (flash, transaction) => {
    flash = flash.map(transaction.changes);
    for (const effect of transaction.effects) {
      if (effect.is(flashEffect)) {
        const line = effect.value;
        flash =
          line === null || line > transaction.newDoc.lines
            ? Decoration.none
            : Decoration.set(
                Decoration.line({ class: 'cocalc-flash-line' }).range(
                  transaction.newDoc.line(line).from
                )
              );
      }
    }
    return flash;
  },
  provide: field => EditorView.decorations.from(field)
});

/**
 * The diagnostics of each cell's editor model, kept outside the editor: a
 * notebook creates a cell's editor only when the cell scrolls into view.
 */
const diagnosticsOfModel = new WeakMap<
  CodeEditor.IModel,
  readonly ILineDiagnostic[]
>();

/** The CodeMirror view of a JupyterLab editor, when it has one yet. */
export function editorView(
  editor: CodeEditor.IEditor | null | undefined
): EditorView | null {
  return editor instanceof CodeMirrorEditor ? editor.editor : null;
}

/** Show (or, with an empty list, clear) a cell editor's gutter marks. */
export function setDiagnostics(
  model: CodeEditor.IModel,
  view: EditorView | null,
  diagnostics: readonly ILineDiagnostic[]
): void {
  const previous = diagnosticsOfModel.get(model) ?? [];
  if (previous.length === 0 && diagnostics.length === 0) {
    return;
  }
  diagnosticsOfModel.set(model, diagnostics);
  if (view) {
    const effects: StateEffect<unknown>[] = [
      setDiagnosticsEffect.of(diagnostics)
    ];
    if (diagnostics.length > 0) {
      effects.push(gutterCompartment.reconfigure(diagnosticsGutter));
    }
    view.dispatch({ effects });
  }
}

/** Flash an editor line for a moment, to show where the cursor went. */
export function flashLine(view: EditorView, line: number): void {
  view.dispatch({ effects: flashEffect.of(line) });
  window.setTimeout(() => {
    view.dispatch({ effects: flashEffect.of(null) });
  }, FLASH_MS);
}

/**
 * Adds the marks to every inline editor; `onEdited` hears of each edit of a
 * cell's text (the live preview's typing timer).
 */
export function registerCellMarks(
  registry: IEditorExtensionRegistry,
  onEdited: (model: CodeEditor.IModel) => void
): void {
  registry.addExtension({
    name: 'cocalc-magics:cell-marks',
    factory: options => {
      if (!options.inline) {
        return null;
      }
      const model = options.model;
      const initial = diagnosticsOfModel.get(model) ?? [];
      const extension: Extension = [
        diagnosticsField.init(state => markersFor(state.doc, initial)),
        gutterCompartment.of(initial.length > 0 ? diagnosticsGutter : []),
        flashField,
        EditorView.updateListener.of(update => {
          if (update.docChanged) {
            onEdited(model);
          }
        })
      ];
      return EditorExtensionRegistry.createImmutableExtension(extension);
    }
  });
}
