/**
 * The CoCalc sidebar: the account, the projects with live state badges,
 * Start/Stop/Restart, a filter, and the "compile with this project" choice.
 *
 * Everything comes from the server extension (see api.ts), so the panel works
 * with no kernel running and the API key never reaches the page. It polls with
 * lumino's Poll: quickly while a project is changing state, backing off after
 * errors, and not at all while the panel or the browser tab is hidden.
 */
import { Dialog, showDialog } from '@jupyterlab/apputils';
import { TranslationBundle } from '@jupyterlab/translation';
import { LabIcon } from '@jupyterlab/ui-components';
import { Poll } from '@lumino/polling';
import { Widget } from '@lumino/widgets';

import {
  IAccountAnswer,
  IProjectRow,
  ProjectAction,
  changeProjectState,
  getAccount,
  getProjects,
  setCompileProject,
  signIn
} from './api';

export const SIDEBAR_ID = 'cocalc-magics-sidebar';

const POLL_INTERVAL_MS = 5000;
/** While a project starts or stops, the badge follows it this closely. */
const CHANGING_POLL_MS = 700;
const MAX_BACKOFF_MS = 60000;

export const cocalcIcon = new LabIcon({
  name: 'cocalc-magics:cocalc',
  svgstr:
    '<svg xmlns="http://www.w3.org/2000/svg" viewBox="0 0 24 24" width="16" height="16">' +
    '<circle class="jp-icon3" fill="#616161" cx="12" cy="12" r="10"/>' +
    '<path fill="#fff" d="M15.8 8.6A5 5 0 1 0 15.8 15.4l-1.5-1.3a3 3 0 1 1 0-4.2z"/>' +
    '</svg>'
});

const ACTION_LABELS: Record<
  ProjectAction,
  (trans: TranslationBundle) => string
> = {
  start: trans => trans.__('Start'),
  stop: trans => trans.__('Stop'),
  restart: trans => trans.__('Restart')
};

/** The badge text: CoCalc calls a stopped project "opened" (or closed, archived). */
export function badgeText(row: IProjectRow): string {
  if (row.is_running) {
    return 'running';
  }
  if (row.is_stopped) {
    return 'stopped';
  }
  return row.state;
}

function element<K extends keyof HTMLElementTagNameMap>(
  tag: K,
  className: string,
  text?: string
): HTMLElementTagNameMap[K] {
  const node = document.createElement(tag);
  node.className = className;
  if (text !== undefined) {
    node.textContent = text;
  }
  return node;
}

/** The sign-in dialog's body: a password field whose value goes to the server once. */
class SignInBody extends Widget implements Dialog.IBodyWidget<string> {
  constructor(howTo: string, trans: TranslationBundle) {
    super();
    this.addClass('cocalc-signin');
    const note = element('p', 'cocalc-signin-note', howTo);
    this._input = element('input', 'jp-mod-styled cocalc-signin-key');
    this._input.type = 'password';
    this._input.autocomplete = 'off';
    this._input.spellcheck = false;
    this._input.placeholder = trans.__('sk-…');
    this._input.setAttribute('aria-label', trans.__('CoCalc API key'));
    this.node.append(note, this._input);
  }

  getValue(): string {
    return this._input.value;
  }

  protected onAfterAttach(): void {
    this._input.focus();
  }

  private _input: HTMLInputElement;
}

export class CoCalcSidebar extends Widget {
  constructor(trans: TranslationBundle) {
    super();
    this._trans = trans;
    this.id = SIDEBAR_ID;
    this.addClass('cocalc-sidebar');
    this.title.icon = cocalcIcon;
    this.title.caption = trans.__('CoCalc');

    const header = element('div', 'cocalc-sidebar-header');
    header.append(element('h2', 'cocalc-sidebar-heading', 'CoCalc'));
    this._account = element(
      'div',
      'cocalc-sidebar-account',
      trans.__('Connecting…')
    );
    header.append(this._account);
    this._message = element('div', 'cocalc-sidebar-message');
    this._message.setAttribute('role', 'status');
    this._signIn = element(
      'button',
      'jp-mod-styled jp-mod-accept cocalc-sidebar-signin',
      trans.__('Sign in…')
    );
    this._signIn.addEventListener('click', () => void this._openSignIn());
    this._filter = element('input', 'jp-mod-styled cocalc-sidebar-filter');
    this._filter.type = 'search';
    this._filter.placeholder = trans.__('Filter projects');
    this._filter.setAttribute('aria-label', trans.__('Filter projects'));
    this._filter.addEventListener('input', () => this._renderProjects());
    this._list = element('ul', 'cocalc-sidebar-projects');
    this.node.append(
      header,
      this._message,
      this._signIn,
      this._filter,
      this._list
    );
    this._showSignedOut(false);

    this._poll = new Poll({
      factory: () => this.refresh(),
      frequency: {
        interval: POLL_INTERVAL_MS,
        backoff: true,
        max: MAX_BACKOFF_MS
      },
      name: 'cocalc-magics:sidebar',
      standby: () => !this.isVisible || document.hidden
    });
  }

  /** The project chosen for compiles, as the server extension keeps it. */
  get compileProjectId(): string | null {
    return this._compileProjectId;
  }

  dispose(): void {
    this._poll.dispose();
    super.dispose();
  }

  /** Ask the server extension for the account and projects now. */
  async refresh(): Promise<void> {
    let account: IAccountAnswer;
    try {
      account = await getAccount();
    } catch (error) {
      this._showError(error);
      throw error; // the poll backs off
    }
    if (!account.signed_in) {
      this._account.textContent = this._trans.__(
        'Not signed in (%1)',
        account.host
      );
      this._showMessage(account.how_to ?? '');
      this._showSignedOut(true);
      this._rows = [];
      this._renderProjects();
      return;
    }
    const who = account.account!;
    const name = `${who.first_name} ${who.last_name}`.trim();
    this._account.textContent = [name, who.email_address, account.host]
      .filter(part => part)
      .join(' · ');
    this._showSignedOut(false);
    try {
      const answer = await getProjects();
      this._rows = answer.projects;
      this._compileProjectId = answer.compile_project_id;
      this._showMessage(
        answer.truncated
          ? this._trans.__(
              'Showing the %1 most recently edited projects.',
              answer.projects.length
            )
          : ''
      );
    } catch (error) {
      this._showError(error);
      throw error;
    }
    this._renderProjects();
    if (this._rows.some(row => row.is_changing)) {
      this._refreshSoon();
    }
  }

  protected onAfterShow(): void {
    void this._poll.refresh();
  }

  private _refreshSoon(): void {
    window.clearTimeout(this._soon);
    this._soon = window.setTimeout(
      () => void this._poll.refresh(),
      CHANGING_POLL_MS
    );
  }

  private _showSignedOut(signedOut: boolean): void {
    this._signIn.hidden = !signedOut;
    this._filter.hidden = signedOut;
  }

  private _showMessage(text: string, isError = false): void {
    this._message.textContent = text;
    this._message.hidden = !text;
    this._message.classList.toggle('cocalc-sidebar-error', isError);
  }

  private _showError(error: unknown): void {
    this._showMessage(
      error instanceof Error ? error.message : String(error),
      true
    );
  }

  private _renderProjects(): void {
    const filter = this._filter.value.trim().toLowerCase();
    const rows = this._rows.filter(
      row =>
        !filter ||
        row.title.toLowerCase().includes(filter) ||
        row.project_id.startsWith(filter)
    );
    this._list.replaceChildren(...rows.map(row => this._renderRow(row)));
    if (this._rows.length && !rows.length) {
      this._list.append(
        element(
          'li',
          'cocalc-sidebar-empty',
          this._trans.__('No project matches the filter.')
        )
      );
    }
  }

  private _renderRow(row: IProjectRow): HTMLLIElement {
    const item = element('li', 'cocalc-sidebar-project');
    item.dataset.projectId = row.project_id;
    const top = element('div', 'cocalc-sidebar-project-top');
    const title = element(
      'span',
      'cocalc-sidebar-project-title',
      row.title || this._trans.__('(untitled)')
    );
    title.title = row.project_id;
    const badge = element(
      'span',
      `cocalc-sidebar-badge cocalc-state-${row.is_running ? 'running' : row.is_stopped ? 'stopped' : 'changing'}`,
      badgeText(row)
    );
    if (row.error) {
      badge.title = row.error;
    }
    top.append(title, badge);

    const controls = element('div', 'cocalc-sidebar-project-controls');
    const compile = element('label', 'cocalc-sidebar-compile');
    const radio = element('input', 'cocalc-sidebar-compile-choice');
    radio.type = 'radio';
    radio.name = `${this.id}-compile`;
    radio.checked = row.project_id === this._compileProjectId;
    radio.addEventListener('change', () => void this._chooseCompile(row));
    compile.append(radio, ' ', this._trans.__('compile here'));
    compile.title = this._trans.__(
      'Compile LaTeX with this project: the Compile LaTeX Cell command adds --project to the magic line'
    );
    const busy = row.is_changing || this._pending.has(row.project_id);
    const allowed: Record<ProjectAction, boolean> = {
      start: !busy && row.is_stopped,
      stop: !busy && !row.is_stopped,
      restart: !busy && !row.is_stopped
    };
    for (const action of ['start', 'stop', 'restart'] as ProjectAction[]) {
      const button = element(
        'button',
        `cocalc-sidebar-action cocalc-sidebar-${action}`,
        ACTION_LABELS[action](this._trans)
      );
      button.disabled = !allowed[action];
      button.addEventListener('click', () => void this._act(row, action));
      controls.append(button);
    }
    controls.append(compile);
    item.append(top, controls);
    return item;
  }

  private async _act(row: IProjectRow, action: ProjectAction): Promise<void> {
    this._pending.add(row.project_id);
    this._renderProjects();
    try {
      const state = await changeProjectState(row.project_id, action);
      Object.assign(row, state);
      this._showMessage('');
    } catch (error) {
      this._showError(error);
    } finally {
      this._pending.delete(row.project_id);
      this._renderProjects();
      this._refreshSoon();
    }
  }

  private async _chooseCompile(row: IProjectRow): Promise<void> {
    try {
      const answer = await setCompileProject(row.project_id);
      this._compileProjectId = answer.project_id;
    } catch (error) {
      this._showError(error);
    }
    this._renderProjects();
  }

  private async _openSignIn(): Promise<void> {
    const trans = this._trans;
    const result = await showDialog({
      title: trans.__('Sign in to CoCalc'),
      body: new SignInBody(
        trans.__(
          'Paste an API key from CoCalc (Account → API key). It goes once to ' +
            'this Jupyter server, which checks it and keeps it in its config file.'
        ),
        trans
      ),
      buttons: [
        Dialog.cancelButton(),
        Dialog.okButton({ label: trans.__('Sign in') })
      ],
      focusNodeSelector: 'input'
    });
    const key = result.button.accept ? (result.value ?? '').trim() : '';
    if (!key) {
      return;
    }
    try {
      await signIn(key);
      this._showMessage('');
    } catch (error) {
      const reason = error instanceof Error ? error.message : String(error);
      this._showMessage(trans.__('Sign-in failed: %1', reason), true);
      return;
    }
    await this._poll.refresh();
  }

  private _trans: TranslationBundle;
  private _account: HTMLDivElement;
  private _message: HTMLDivElement;
  private _signIn: HTMLButtonElement;
  private _filter: HTMLInputElement;
  private _list: HTMLUListElement;
  private _poll: Poll;
  private _rows: IProjectRow[] = [];
  private _pending = new Set<string>();
  private _compileProjectId: string | null = null;
  private _soon = 0;
}
