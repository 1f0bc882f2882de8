import { useId } from 'react';
import { ALL_TARGETS } from '../../lib/historyTransforms';

interface Props {
  targets: string[];
  value: string;
  onChange: (target: string) => void;
  label?: string;
  allowAll?: boolean;
}

export default function TargetSelect({ targets, value, onChange, label = 'Target', allowAll }: Props) {
  const id = useId();
  if (targets.length <= 1 && !allowAll) return null;
  return (
    <div className="field" style={{ marginBottom: 0, flexDirection: 'row', alignItems: 'center', gap: '0.5rem' }}>
      <label htmlFor={id}>{label}</label>
      <select id={id} value={value} onChange={(e) => onChange(e.target.value)}>
        {allowAll ? <option value={ALL_TARGETS}>all targets (largest change)</option> : null}
        {targets.map((t) => (
          <option key={t} value={t}>
            {t}
          </option>
        ))}
      </select>
    </div>
  );
}
