import { useState } from 'react';
import { api } from '../../api/endpoints';
import type { UploadPreview } from '../../api/types';
import { FieldError } from '../../components/Feedback';
import { errorText } from '../../lib/errorText';

export const ENCODING_NAMES: Record<string, string> = {
  'utf-8': 'UTF-8',
  gb18030: 'GB18030 (Chinese Excel)',
  cp1252: 'Windows-1252 (Western European Excel)',
  'latin-1': 'Latin-1',
};

/** Most files are UTF-8: checked here, they go straight to the upload. */
export async function isUtf8(file: Blob): Promise<boolean> {
  try {
    new TextDecoder('utf-8', { fatal: true }).decode(await file.arrayBuffer());
    return true;
  } catch {
    return false;
  }
}

/** A file the server detects as UTF-8 needs no question. */
export function needsEncodingCheck(preview: UploadPreview): boolean {
  return !preview.encoding.startsWith('utf-8');
}

interface Props {
  file: File;
  preview: UploadPreview;
  onStore: (encoding: string) => void;
  onCancel: () => void;
}

/** Before a file that is not UTF-8 is stored: its header as the server decodes it, another
 *  encoding to try, then store or cancel. */
export default function EncodingCheck({ file, preview: first, onStore, onCancel }: Props) {
  const [preview, setPreview] = useState(first);
  const [error, setError] = useState<string | null>(null);
  const retry = async (encoding: string) => {
    setError(null);
    try {
      setPreview(await api.previewUpload(file, encoding));
    } catch (err) {
      setError(errorText(err));
    }
  };
  return (
    <div className="notice" role="group" aria-label={`Encoding of ${file.name}`} data-testid="encoding-check">
      <p style={{ marginTop: 0 }}>
        <strong>{file.name}</strong> is not UTF-8; read as {ENCODING_NAMES[preview.encoding] ?? preview.encoding}, its columns are:
      </p>
      <p className="small" data-testid="decoded-header">
        {preview.columns.join(' · ')}
      </p>
      <div className="toolbar" style={{ marginBottom: 0 }}>
        <div className="field" style={{ flexDirection: 'row', alignItems: 'center', gap: '0.4rem' }}>
          <label htmlFor="encoding-choice">Encoding</label>
          <select id="encoding-choice" value={preview.encoding} onChange={(e) => void retry(e.target.value)}>
            {Object.entries(ENCODING_NAMES).map(([value, label]) => (
              <option key={value} value={value}>
                {label}
              </option>
            ))}
          </select>
        </div>
        <button type="button" className="btn btn--primary" disabled={!!error} onClick={() => onStore(preview.encoding)}>
          Store this file
        </button>
        <button type="button" className="btn" onClick={onCancel}>
          Cancel
        </button>
      </div>
      <FieldError id="encoding-error" messages={error ? [error] : []} />
    </div>
  );
}
