import { FieldError } from '../../components/Feedback';

interface Props {
  name: string;
  label: string;
  hint?: string;
  value: string;
  min: number;
  max: number;
  step: number;
  disabled?: boolean;
  errors?: string[];
  onChange: (value: string) => void;
}

/** A slider and a number input bound to the same value and the same limits. */
export default function NumberSliderField({ name, label, hint, value, min, max, step, disabled, errors, onChange }: Props) {
  const id = `field-${name}`;
  const errorId = `${id}-error`;
  const hintId = `${id}-hint`;
  const invalid = !!errors?.length;
  const numeric = Number(value);
  const describedBy = [hint ? hintId : null, invalid ? errorId : null].filter(Boolean).join(' ') || undefined;
  return (
    <div className="field">
      <label htmlFor={id}>{label}</label>
      <div className="slider-row">
        <input
          type="range"
          aria-label={`${label} slider`}
          min={min}
          max={max}
          step={step}
          value={Number.isFinite(numeric) ? Math.min(max, Math.max(min, numeric)) : min}
          disabled={disabled}
          onChange={(e) => onChange(e.target.value)}
        />
        <input
          id={id}
          name={name}
          type="number"
          min={min}
          max={max}
          step={step}
          value={value}
          disabled={disabled}
          aria-invalid={invalid}
          aria-describedby={describedBy}
          onChange={(e) => onChange(e.target.value)}
        />
      </div>
      {hint ? (
        <span id={hintId} className="hint">
          {hint}
        </span>
      ) : null}
      <FieldError id={errorId} messages={errors} />
    </div>
  );
}
