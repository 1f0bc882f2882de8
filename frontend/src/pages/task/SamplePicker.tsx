import { useId, useState } from 'react';
import type { SampleHistory } from '../../api/types';

interface Props {
  samples: SampleHistory[];
  chosen: Set<number>;
  highlight: number | null;
  onChosen: (chosen: Set<number>) => void;
  onHighlight: (index: number | null) => void;
}

const PRESET_SIZE = 20;

/** Which samples the trend chart draws (presets or one by one) and which one is highlighted. */
export default function SamplePicker({ samples, chosen, highlight, onChosen, onHighlight }: Props) {
  const uid = useId();
  const [query, setQuery] = useState('');
  const [message, setMessage] = useState('');
  // The suggestion list holds every sample ID: build it only once someone types.
  const [suggest, setSuggest] = useState(false);
  const byId = new Map(samples.map((s) => [s.sample_id, s.sample_index]));
  const shown = samples.filter((s) => chosen.has(s.sample_index));

  const preset = (pick: (s: SampleHistory) => boolean, limit?: number) => {
    const list = samples.filter(pick);
    onChosen(new Set((limit ? list.slice(0, limit) : list).map((s) => s.sample_index)));
  };

  const add = () => {
    const text = query.trim();
    const index = byId.get(text) ?? (/^\d+$/.test(text) ? Number(text) : undefined);
    if (index == null || !samples.some((s) => s.sample_index === index)) {
      setMessage(`No sample "${text}".`);
      return;
    }
    setMessage('');
    onChosen(new Set([...chosen, index]));
    onHighlight(index);
    setQuery('');
  };

  return (
    <div>
      <div className="sample-picker" role="group" aria-label="Samples in the chart">
        <span className="small muted">
          Showing {chosen.size} of {samples.length} samples:
        </span>
        <button type="button" className="btn btn--small" onClick={() => preset(() => true, PRESET_SIZE)}>
          First {PRESET_SIZE}
        </button>
        <button type="button" className="btn btn--small" onClick={() => preset((s) => s.convergence_status === 'failed')}>
          Failed
        </button>
        <button type="button" className="btn btn--small" onClick={() => preset((s) => s.convergence_status === 'not_converged')}>
          Not converged
        </button>
        <button type="button" className="btn btn--small" onClick={() => preset(() => true)}>
          All
        </button>
      </div>
      <div className="sample-picker">
        <label htmlFor={`${uid}-add`} className="small">
          Add sample
        </label>
        <input
          id={`${uid}-add`}
          type="search"
          list={`${uid}-ids`}
          placeholder="sample ID or index"
          value={query}
          onChange={(e) => setQuery(e.target.value)}
          onFocus={() => setSuggest(true)}
          onKeyDown={(e) => {
            if (e.key === 'Enter') {
              e.preventDefault();
              add();
            }
          }}
          aria-describedby={message ? `${uid}-msg` : undefined}
        />
        <datalist id={`${uid}-ids`}>
          {suggest && samples.length <= 5000 ? samples.map((s) => <option key={s.sample_index} value={s.sample_id} />) : null}
        </datalist>
        <button type="button" className="btn btn--small" onClick={add} disabled={!query.trim()}>
          Add
        </button>
        <label htmlFor={`${uid}-hl`} className="small">
          Highlight
        </label>
        <select
          id={`${uid}-hl`}
          value={highlight == null ? '' : String(highlight)}
          onChange={(e) => onHighlight(e.target.value === '' ? null : Number(e.target.value))}
        >
          <option value="">(none)</option>
          {shown.slice(0, 2000).map((s) => (
            <option key={s.sample_index} value={s.sample_index}>
              {s.sample_id}
            </option>
          ))}
        </select>
        {message ? (
          <span id={`${uid}-msg`} className="field-error" role="status">
            {message}
          </span>
        ) : null}
      </div>
    </div>
  );
}
