/**
 * LaTeX highlighting for `%%cocalc_latex` cells.
 *
 * A notebook cell's language is the kernel's (Python), so JupyterLab highlights
 * the TeX of a `%%cocalc_latex` cell as Python: `and`, `is`, `with` in prose come
 * out as keywords and `%` is not a comment. This extension gives such a cell a
 * language of its own — the magic line as a magic, the body through CodeMirror's
 * stex mode — and switches back as soon as the first line stops naming the magic.
 */
import {
  LanguageSupport,
  StreamLanguage,
  StreamParser,
  StringStream,
  language
} from '@codemirror/language';
import {
  Compartment,
  EditorState,
  Extension,
  Prec,
  Text
} from '@codemirror/state';
import { EditorView, ViewPlugin } from '@codemirror/view';
import {
  EditorExtensionRegistry,
  IEditorExtensionRegistry
} from '@jupyterlab/codemirror';

/** The cell magic whose body is LaTeX (cocalc_magics/magics.py). */
export const LATEX_MAGIC = '%%cocalc_latex';

/** Whether a cell's source is a `%%cocalc_latex` cell: its first line names the magic. */
export function isLatexCellSource(source: string): boolean {
  const firstLine = source.split('\n', 1)[0];
  return (
    firstLine.startsWith(LATEX_MAGIC) &&
    (firstLine.length === LATEX_MAGIC.length ||
      /\s/.test(firstLine[LATEX_MAGIC.length]))
  );
}

/**
 * The cell's source with `--project <id>` on its magic line, unless the line
 * already names a project (`--project`, as `%%cocalc_latex --help` lists it).
 */
export function withProjectOption(source: string, projectId: string): string {
  const newline = source.indexOf('\n');
  const firstLine = newline < 0 ? source : source.slice(0, newline);
  if (/(^|\s)--project(\s|=|$)/.test(firstLine)) {
    return source;
  }
  const rest = newline < 0 ? '' : source.slice(newline);
  return `${firstLine.trimEnd()} --project ${projectId}${rest}`;
}

function isLatexCellDocument(doc: Text): boolean {
  return isLatexCellSource(doc.line(1).text);
}

interface ILatexCellState {
  /** How many lines the parser has started: the first is the magic line. */
  linesStarted: number;
  /** The stex mode's own state, for the body. */
  body: unknown;
}

/**
 * The magic line (`%%cocalc_latex --project x`) tokenized as IPython shows a
 * magic: the magic's name as meta, its options as attributes, their values as
 * strings.
 */
function magicLineToken(stream: StringStream): string | null {
  if (stream.eatSpace()) {
    return null;
  }
  if (stream.sol() && stream.match(/^%%\w+/)) {
    return 'meta';
  }
  if (stream.match(/^--?[\w-]+/)) {
    return 'attributeName';
  }
  stream.match(/^\S+/);
  return 'string';
}

/** The cell's language: the magic line, then everything else through `stex`. */
function latexCellLanguage(
  stex: Required<StreamParser<unknown>>
): StreamLanguage<ILatexCellState> {
  return StreamLanguage.define<ILatexCellState>({
    name: 'cocalc-latex',
    startState: indentUnit => ({
      linesStarted: 0,
      body: stex.startState(indentUnit)
    }),
    copyState: state => ({
      linesStarted: state.linesStarted,
      body: stex.copyState(state.body)
    }),
    token: (stream, state) => {
      // A stream parser gets no "new line" call: the first token of each line
      // is the one asked for at its start.
      if (stream.sol()) {
        state.linesStarted++;
      }
      if (state.linesStarted <= 1) {
        return magicLineToken(stream);
      }
      return stex.token(stream, state.body);
    },
    blankLine: (state, indentUnit) => {
      state.linesStarted++;
      stex.blankLine(state.body, indentUnit);
    },
    languageData: stex.languageData
  });
}

let latexCellSupport: LanguageSupport | null = null;
let latexCellSupportLoading: Promise<LanguageSupport> | null = null;

/** CodeMirror's stex mode loads on first need, not with the application. */
function loadLatexCellSupport(): Promise<LanguageSupport> {
  latexCellSupportLoading ??= import('@codemirror/legacy-modes/mode/stex').then(
    ({ stex }) => {
      const parser = {
        blankLine: () => undefined,
        ...stex
      } as Required<StreamParser<unknown>>;
      latexCellSupport = new LanguageSupport(latexCellLanguage(parser));
      return latexCellSupport;
    }
  );
  return latexCellSupportLoading;
}

/**
 * The per-editor part: a compartment that holds the LaTeX language (at the
 * highest precedence, so it wins over the kernel's language in the same
 * editor) while the first line names the magic, and nothing otherwise. A
 * transaction extender switches it within the edit that changes the first
 * line, as CodeMirror's "automatic language detection" example does; a view
 * plugin covers the moment before the stex mode has loaded.
 */
export function latexCellExtension(initialSource: string): Extension {
  const compartment = new Compartment();
  const languageFor = (isLatex: boolean): Extension =>
    isLatex && latexCellSupport ? Prec.highest(latexCellSupport) : [];
  const hasLatexLanguage = (state: EditorState): boolean =>
    latexCellSupport !== null &&
    state.facet(language) === latexCellSupport.language;
  const switchWhenLoaded = (view: EditorView): void => {
    if (latexCellSupport || !isLatexCellDocument(view.state.doc)) {
      return;
    }
    void loadLatexCellSupport().then(() => {
      const stillLatex = isLatexCellDocument(view.state.doc);
      if (stillLatex && !hasLatexLanguage(view.state)) {
        view.dispatch({ effects: compartment.reconfigure(languageFor(true)) });
      }
    });
  };
  return [
    compartment.of(languageFor(isLatexCellSource(initialSource))),
    EditorState.transactionExtender.of(transaction => {
      if (!transaction.docChanged || !latexCellSupport) {
        return null;
      }
      const wasLatex = hasLatexLanguage(transaction.startState);
      const isLatex = isLatexCellDocument(transaction.newDoc);
      if (wasLatex === isLatex) {
        return null;
      }
      return { effects: compartment.reconfigure(languageFor(isLatex)) };
    }),
    ViewPlugin.define(view => {
      switchWhenLoaded(view);
      return {
        update: update => {
          if (update.docChanged) {
            switchWhenLoaded(update.view);
          }
        }
      };
    })
  ];
}

/** Adds the LaTeX cell language to every inline editor (notebook and console cells). */
export function registerLatexCellHighlighting(
  registry: IEditorExtensionRegistry
): void {
  registry.addExtension({
    name: 'cocalc-magics:latex-cells',
    // The editor starts with the cell's source already in it.
    factory: options =>
      options.inline
        ? EditorExtensionRegistry.createImmutableExtension(
            latexCellExtension(options.model.sharedModel.getSource())
          )
        : null
  });
}
