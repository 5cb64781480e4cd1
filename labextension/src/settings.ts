/**
 * The extension's user settings (schema/plugin.json). Declared now so users
 * can set them; the live preview and the gutter marks read them.
 */
import { ISettingRegistry } from '@jupyterlab/settingregistry';

export interface ICoCalcSettings {
  /** Milliseconds after typing stops before a live preview recompiles. */
  livePreviewDelay: number;
  /** The PDF viewer's zoom when it opens (1 = 100 %). */
  defaultZoom: number;
  /** Mark TeX error and warning lines in the cell editor's gutter. */
  gutterMarks: boolean;
}

export const DEFAULT_SETTINGS: ICoCalcSettings = {
  livePreviewDelay: 800,
  defaultZoom: 1,
  gutterMarks: true
};

/** The current settings, kept up to date when the user changes them. */
export const currentSettings: ICoCalcSettings = { ...DEFAULT_SETTINGS };

export async function loadSettings(
  registry: ISettingRegistry,
  pluginId: string
): Promise<ICoCalcSettings> {
  const settings = await registry.load(pluginId);
  const read = (): void => {
    Object.assign(
      currentSettings,
      settings.composite as Partial<ICoCalcSettings>
    );
  };
  read();
  settings.changed.connect(read);
  return currentSettings;
}
