import { useState } from 'react';
import { api } from '../../api/endpoints';
import { ErrorBanner } from '../../components/Feedback';
import { downloadBlob } from '../../lib/download';

interface Props {
  taskId: number;
  disabled: boolean;
}

const EXPORTS = [
  { label: 'Export CSV', format: 'csv', layout: 'final' },
  { label: 'Export rounds CSV', format: 'csv', layout: 'rounds' },
  { label: 'Export JSON', format: 'json', layout: 'rounds' },
] as const;

/** Downloads the server's export (GET /api/results/{id}/export), the file a script would get. */
export default function ExportButtons({ taskId, disabled }: Props) {
  const [error, setError] = useState<unknown>(null);
  const [busy, setBusy] = useState(false);
  const run = async (format: 'csv' | 'json', layout: 'final' | 'rounds') => {
    setBusy(true);
    setError(null);
    try {
      const { blob, filename } = await api.exportResults(taskId, format, layout);
      downloadBlob(filename ?? `task-${taskId}-${layout}.${format}`, blob);
    } catch (err) {
      setError(err);
    } finally {
      setBusy(false);
    }
  };
  return (
    <>
      {EXPORTS.map((e) => (
        <button key={e.label} type="button" className="btn" disabled={disabled || busy} onClick={() => void run(e.format, e.layout)}>
          {e.label}
        </button>
      ))}
      <ErrorBanner error={error} />
    </>
  );
}
