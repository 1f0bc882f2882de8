import { useMemo, useRef, useState } from 'react';
import type { KeyboardEvent } from 'react';
import { useVirtualizer } from '@tanstack/react-virtual';
import type { SampleHistory } from '../../api/types';
import { EmptyState } from '../../components/Feedback';
import StatusBadge from '../../components/StatusBadge';
import { formatNumber } from '../../lib/format';
import { filterRows, sampleRows, sortRows } from '../../lib/historyTransforms';
import type { SampleRow, SortKey, SortState } from '../../lib/historyTransforms';
import TargetSelect from './TargetSelect';

interface Props {
  samples: SampleHistory[];
  targets: string[];
  target: string;
  onTarget: (t: string) => void;
  highlight: number | null;
  onHighlight: (index: number | null) => void;
}

interface Column {
  key: SortKey;
  label: string;
  width: string;
  numeric?: boolean;
  render: (r: SampleRow) => React.ReactNode;
}

const COLUMNS: Column[] = [
  { key: 'index', label: '#', width: '56px', numeric: true, render: (r) => r.index },
  { key: 'id', label: 'Sample', width: 'minmax(110px, 1.3fr)', render: (r) => r.id },
  { key: 'status', label: 'Status', width: '130px', render: (r) => <StatusBadge status={r.status} /> },
  { key: 'convergedAt', label: 'Converged at', width: '115px', numeric: true, render: (r) => r.convergedAt ?? '–' },
  { key: 'rounds', label: 'Rounds', width: '72px', numeric: true, render: (r) => r.rounds },
  { key: 'initial', label: 'Initial', width: 'minmax(80px, 1fr)', numeric: true, render: (r) => formatNumber(r.initial) },
  { key: 'final', label: 'Final', width: 'minmax(80px, 1fr)', numeric: true, render: (r) => formatNumber(r.final) },
  {
    key: 'intervalWidth',
    label: '90 % interval',
    width: 'minmax(120px, 1.2fr)',
    numeric: true,
    render: (r) => (r.lower != null && r.upper != null ? `${formatNumber(r.lower)} – ${formatNumber(r.upper)}` : '–'),
  },
  { key: 'change', label: 'Change', width: 'minmax(80px, 1fr)', numeric: true, render: (r) => formatNumber(r.change) },
  { key: 'lastRelChange', label: 'Rel. change', width: '110px', numeric: true, render: (r) => formatNumber(r.lastRelChange, 4) },
  { key: 'errorType', label: 'Error', width: 'minmax(110px, 1.2fr)', render: (r) => (r.errorType ? <span title={r.errorMessage ?? ''}>{r.errorType}</span> : '') },
];

const GRID = COLUMNS.map((c) => c.width).join(' ');
const ROW_HEIGHT = 34;
const BODY_HEIGHT = 420;

/** Every sample with its initial/final prediction; sortable, filterable, virtualized. */
export default function SamplesTable({ samples, targets, target, onTarget, highlight, onHighlight }: Props) {
  const [sort, setSort] = useState<SortState>({ key: 'index', dir: 'asc' });
  const [text, setText] = useState('');
  const [status, setStatus] = useState('');
  const [focused, setFocused] = useState(0);
  const bodyRef = useRef<HTMLDivElement>(null);

  const allRows = useMemo(() => sampleRows(samples, target), [samples, target]);
  const rows = useMemo(() => sortRows(filterRows(allRows, { text, status }), sort), [allRows, text, status, sort]);

  const virtualizer = useVirtualizer({
    count: rows.length,
    getScrollElement: () => bodyRef.current,
    estimateSize: () => ROW_HEIGHT,
    overscan: 12,
  });

  const toggleSort = (key: SortKey) =>
    setSort((prev) => (prev.key === key ? { key, dir: prev.dir === 'asc' ? 'desc' : 'asc' } : { key, dir: 'asc' }));

  const focusRow = (i: number) => {
    const next = Math.max(0, Math.min(rows.length - 1, i));
    setFocused(next);
    virtualizer.scrollToIndex(next, { align: 'auto' });
    requestAnimationFrame(() => bodyRef.current?.querySelector<HTMLElement>(`[data-row="${next}"]`)?.focus());
  };

  const onKey = (e: KeyboardEvent<HTMLDivElement>, i: number, row: SampleRow) => {
    const page = Math.floor(BODY_HEIGHT / ROW_HEIGHT);
    const moves: Record<string, number> = { ArrowDown: i + 1, ArrowUp: i - 1, PageDown: i + page, PageUp: i - page, Home: 0, End: rows.length - 1 };
    if (e.key in moves) {
      e.preventDefault();
      focusRow(moves[e.key] ?? i);
    } else if (e.key === 'Enter' || e.key === ' ') {
      e.preventDefault();
      onHighlight(row.index === highlight ? null : row.index);
    }
  };

  return (
    <section className="panel" aria-labelledby="samples-title" data-testid="samples-table">
      <div className="panel__header">
        <h2 id="samples-title">Samples</h2>
        <div className="toolbar" style={{ marginBottom: 0 }}>
          <TargetSelect targets={targets} value={target} onChange={onTarget} />
          <div className="field" style={{ flexDirection: 'row', alignItems: 'center', gap: '0.4rem' }}>
            <label htmlFor="samples-filter">Filter</label>
            <input id="samples-filter" type="search" placeholder="sample ID or error" value={text} onChange={(e) => setText(e.target.value)} />
          </div>
          <div className="field" style={{ flexDirection: 'row', alignItems: 'center', gap: '0.4rem' }}>
            <label htmlFor="samples-status">Status</label>
            <select id="samples-status" value={status} onChange={(e) => setStatus(e.target.value)}>
              <option value="">all</option>
              <option value="converged">converged</option>
              <option value="not_converged">not converged</option>
              <option value="failed">failed</option>
            </select>
          </div>
        </div>
      </div>
      <p className="small muted" style={{ marginTop: 0 }} aria-live="polite">
        {rows.length === allRows.length ? `${rows.length} samples` : `${rows.length} of ${allRows.length} samples`} · values
        for {target} · arrow keys move, Enter (or a click) highlights the sample in the charts and opens its rounds.
      </p>
      <div className="vtable" role="table" aria-label={`Samples, values for ${target}`} aria-rowcount={rows.length + 1}>
        <div className="vtable__head" role="row" aria-rowindex={1} style={{ gridTemplateColumns: GRID, paddingRight: 12 }}>
          {COLUMNS.map((c) => (
            <div
              key={c.key}
              role="columnheader"
              aria-sort={sort.key === c.key ? (sort.dir === 'asc' ? 'ascending' : 'descending') : 'none'}
              className={c.numeric ? 'num' : undefined}
            >
              <button type="button" onClick={() => toggleSort(c.key)} style={c.numeric ? { textAlign: 'right' } : undefined}>
                {c.label}
                {sort.key === c.key ? (sort.dir === 'asc' ? ' ▲' : ' ▼') : ''}
              </button>
            </div>
          ))}
        </div>
        {rows.length === 0 ? (
          <EmptyState title="No sample matches the filter." />
        ) : (
          <div className="vtable__body" ref={bodyRef} style={{ height: Math.min(BODY_HEIGHT, rows.length * ROW_HEIGHT + 2) }} role="rowgroup">
            <div style={{ height: virtualizer.getTotalSize(), position: 'relative' }}>
              {virtualizer.getVirtualItems().map((v) => {
                const row = rows[v.index];
                if (!row) return null;
                const selected = row.index === highlight;
                return (
                  <div
                    key={row.index}
                    role="row"
                    aria-rowindex={v.index + 2}
                    aria-selected={selected}
                    data-row={v.index}
                    tabIndex={v.index === Math.min(focused, rows.length - 1) ? 0 : -1}
                    className={selected ? 'vtable__row vtable__row--selected' : 'vtable__row'}
                    style={{ gridTemplateColumns: GRID, height: ROW_HEIGHT, transform: `translateY(${v.start}px)` }}
                    onClick={() => {
                      setFocused(v.index);
                      onHighlight(selected ? null : row.index);
                    }}
                    onKeyDown={(e) => onKey(e, v.index, row)}
                  >
                    {COLUMNS.map((c) => (
                      <div key={c.key} role="cell" className={c.numeric ? 'num' : undefined}>
                        {c.render(row)}
                      </div>
                    ))}
                  </div>
                );
              })}
            </div>
          </div>
        )}
      </div>
    </section>
  );
}
