import { useId, useState } from 'react';
import type { DragEvent } from 'react';
import { api } from '../../api/endpoints';
import type { Dataset, DatasetWithPreview, UploadPreview } from '../../api/types';
import { FieldError, Loading } from '../../components/Feedback';
import { errorText } from '../../lib/errorText';
import { formatDateTime } from '../../lib/format';
import DatasetPreview from './DatasetPreview';
import EncodingCheck, { isUtf8, needsEncodingCheck } from './EncodingCheck';

interface Props {
  /** "test" or "reference": names the input and its error field. */
  kind: 'test' | 'reference';
  title: string;
  hint: string;
  datasets: Dataset[];
  value: DatasetWithPreview | null;
  onChange: (dataset: DatasetWithPreview | null) => void;
  onUploaded: () => void;
  errors?: string[];
}

/** Upload a CSV (drop or browse) or pick an already uploaded dataset; shows its preview. */
export default function DatasetPicker({ kind, title, hint, datasets, value, onChange, onUploaded, errors }: Props) {
  const uid = useId();
  const [busy, setBusy] = useState(false);
  const [localError, setLocalError] = useState<string | null>(null);
  const [dragging, setDragging] = useState(false);
  const field = `${kind}_file_path`;
  const errorId = `${uid}-error`;
  const allErrors = [...(localError ? [localError] : []), ...(errors ?? [])];

  const load = async (action: () => Promise<Dataset>) => {
    setBusy(true);
    setLocalError(null);
    try {
      const ds = await action();
      const full = await api.getDataset(ds.dataset_id);
      onChange(full);
    } catch (err) {
      setLocalError(errorText(err));
    } finally {
      setBusy(false);
    }
  };

  const [checking, setChecking] = useState<{ file: File; preview: UploadPreview } | null>(null);

  const store = (file: File, encoding?: string) => {
    setChecking(null);
    void load(async () => {
      const ds = await api.uploadDataset(file, encoding);
      onUploaded();
      return ds;
    });
  };

  // A file that is not UTF-8 is shown decoded first: a wrong guess is caught before storing.
  const upload = async (file: File | undefined) => {
    if (!file) return;
    setLocalError(null);
    try {
      if (await isUtf8(file)) return store(file);
      const preview = await api.previewUpload(file);
      if (needsEncodingCheck(preview)) setChecking({ file, preview });
      else store(file);
    } catch (err) {
      setLocalError(errorText(err));
    }
  };

  const pick = (id: string) => {
    if (!id) {
      onChange(null);
      return;
    }
    const ds = datasets.find((d) => String(d.dataset_id) === id);
    if (ds) void load(async () => ds);
  };

  const onDrop = (e: DragEvent<HTMLLabelElement>) => {
    e.preventDefault();
    setDragging(false);
    void upload(e.dataTransfer.files[0]);
  };

  return (
    <section className="panel" aria-labelledby={`${uid}-title`} data-testid={`dataset-${kind}`}>
      <h2 id={`${uid}-title`}>{title}</h2>
      <p className="small muted">{hint}</p>
      <div className="grid-2" style={{ gridTemplateColumns: 'repeat(auto-fit, minmax(240px, 1fr))', marginBottom: '0.75rem' }}>
        <label
          className={dragging ? 'dropzone dropzone--active' : 'dropzone'}
          onDragOver={(e) => {
            e.preventDefault();
            setDragging(true);
          }}
          onDragLeave={() => setDragging(false)}
          onDrop={onDrop}
        >
          <input
            type="file"
            accept=".csv,text/csv"
            name={field}
            aria-label={`Upload ${kind} CSV`}
            aria-describedby={allErrors.length ? errorId : undefined}
            onChange={(e) => {
              void upload(e.target.files?.[0]);
              e.target.value = '';
            }}
            disabled={busy}
          />
          <strong>Drop a CSV here</strong> or <span className="btn--link">browse</span>
        </label>
        <div className="field" style={{ marginBottom: 0 }}>
          <label htmlFor={`${uid}-select`}>…or pick an uploaded dataset</label>
          <select
            id={`${uid}-select`}
            value={value ? String(value.dataset_id) : ''}
            onChange={(e) => pick(e.target.value)}
            disabled={busy}
            aria-invalid={allErrors.length > 0}
            aria-describedby={allErrors.length ? errorId : undefined}
          >
            <option value="">{datasets.length ? '— choose —' : '— none uploaded yet —'}</option>
            {datasets.map((d) => (
              <option key={String(d.dataset_id)} value={String(d.dataset_id)}>
                {d.filename} ({d.rows} rows, {formatDateTime(d.created_at)})
              </option>
            ))}
          </select>
        </div>
      </div>
      <FieldError id={errorId} messages={allErrors} />
      {checking ? (
        <EncodingCheck file={checking.file} preview={checking.preview} onStore={(enc) => store(checking.file, enc)} onCancel={() => setChecking(null)} />
      ) : null}
      {busy ? <Loading label="Reading the file…" /> : value ? <DatasetPreview dataset={value} /> : null}
    </section>
  );
}
