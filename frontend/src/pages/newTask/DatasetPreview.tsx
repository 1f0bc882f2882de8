import type { DatasetWithPreview } from '../../api/types';
import { formatBytes } from '../../lib/format';

interface Props {
  dataset: DatasetWithPreview;
  maxRows?: number;
}

function cell(value: unknown): string {
  if (value == null) return '';
  if (typeof value === 'number') return Number.isInteger(value) ? String(value) : String(Number(value.toFixed(4)));
  return String(value);
}

/** The first rows of a dataset with each column's detected type under its name. */
export default function DatasetPreview({ dataset, maxRows = 5 }: Props) {
  const rows = dataset.preview.slice(0, maxRows);
  return (
    <div>
      <p className="small muted">
        {dataset.filename}: {dataset.rows} rows × {dataset.columns.length} columns ({formatBytes(dataset.size_bytes)}).
        {rows.length < dataset.rows ? ` First ${rows.length} rows:` : ''}
      </p>
      <div className="table-wrap" style={{ maxHeight: '14rem' }} tabIndex={0} aria-label={`Preview of ${dataset.filename}`} role="region">
        <table className="data">
          <thead>
            <tr>
              {dataset.columns.map((c) => (
                <th key={c} scope="col">
                  {c}
                  <span className="coltype">{dataset.column_types[c] ?? '?'}</span>
                </th>
              ))}
            </tr>
          </thead>
          <tbody>
            {rows.map((row, i) => (
              <tr key={i}>
                {dataset.columns.map((c) => (
                  <td key={c} className={dataset.column_types[c] === 'numeric' ? 'num' : undefined}>
                    {cell(row[c])}
                  </td>
                ))}
              </tr>
            ))}
          </tbody>
        </table>
      </div>
    </div>
  );
}
