/**
 * Calls to the server extension (cocalc_magics/labserver): the only way the
 * front end reaches CoCalc. The API key never passes through here except once,
 * in the body of a sign-in request.
 */
import { URLExt } from '@jupyterlab/coreutils';
import { ServerConnection } from '@jupyterlab/services';

export interface IAccount {
  account_id: string;
  email_address: string | null;
  first_name: string;
  last_name: string;
}

export interface IAccountAnswer {
  signed_in: boolean;
  host: string;
  account?: IAccount;
  how_to?: string;
  config_file?: string;
}

export interface IProjectRow {
  project_id: string;
  title: string;
  state: string;
  is_running: boolean;
  is_stopped: boolean;
  is_changing: boolean;
  error: string | null;
}

export interface IProjectsAnswer {
  projects: IProjectRow[];
  /** More projects exist than the server extension lists. */
  truncated: boolean;
  compile_project_id: string | null;
}

export type ProjectAction = 'start' | 'stop' | 'restart';

/** An error answered by the server extension: its one-line message. */
export class CoCalcRequestError extends Error {
  constructor(
    message: string,
    readonly status: number
  ) {
    super(message);
  }
}

export async function requestAPI<T>(
  endpoint: string,
  init: RequestInit = {}
): Promise<T> {
  const settings = ServerConnection.makeSettings();
  const url = URLExt.join(settings.baseUrl, 'cocalc-magics', endpoint);
  let response: Response;
  try {
    response = await ServerConnection.makeRequest(url, init, settings);
  } catch (error) {
    throw new ServerConnection.NetworkError(error as TypeError);
  }
  const text = await response.text();
  let body: any = null;
  try {
    body = text ? JSON.parse(text) : null;
  } catch {
    body = null;
  }
  if (!response.ok) {
    const message =
      body && typeof body.message === 'string'
        ? body.message
        : `${response.status} ${response.statusText}`;
    throw new CoCalcRequestError(message, response.status);
  }
  return body as T;
}

export function getAccount(): Promise<IAccountAnswer> {
  return requestAPI<IAccountAnswer>('account');
}

export function getProjects(): Promise<IProjectsAnswer> {
  return requestAPI<IProjectsAnswer>('projects');
}

export function changeProjectState(
  projectId: string,
  action: ProjectAction
): Promise<IProjectRow> {
  return requestAPI<IProjectRow>(`projects/${projectId}/${action}`, {
    method: 'POST'
  });
}

export function getCompileProject(): Promise<{ project_id: string | null }> {
  return requestAPI('compile-project');
}

export function setCompileProject(
  projectId: string | null
): Promise<{ project_id: string | null }> {
  return requestAPI('compile-project', {
    method: 'PUT',
    body: JSON.stringify({ project_id: projectId })
  });
}

export function signIn(apiKey: string): Promise<IAccountAnswer> {
  return requestAPI<IAccountAnswer>('api-key', {
    method: 'POST',
    body: JSON.stringify({ api_key: apiKey })
  });
}
