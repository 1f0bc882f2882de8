import type { DatasetWithPreview } from '../../api/types';
import { FieldError } from '../../components/Feedback';
import type { FieldErrors } from '../../lib/fieldErrors';

interface Props {
  test: DatasetWithPreview;
  reference: DatasetWithPreview;
  targets: string[];
  idColumn: string;
  featureColumns: string[];
  errors: FieldErrors;
  onTargets: (targets: string[]) => void;
  onIdColumn: (column: string) => void;
  onFeatureToggle: (column: string, included: boolean) => void;
  onFeaturesAll: (included: boolean) => void;
}

function toggle(list: string[], item: string, on: boolean): string[] {
  return on ? (list.includes(item) ? list : [...list, item]) : list.filter((x) => x !== item);
}

/** Targets (reference columns), the test file's ID column and the input columns the model sees. */
export default function ColumnChooser(props: Props) {
  const { test, reference, targets, idColumn, featureColumns, errors } = props;
  const numericRef = reference.columns.filter((c) => reference.column_types[c] === 'numeric');
  const candidates = test.columns.filter((c) => c !== idColumn && !targets.includes(c));
  const groundTruth = targets.filter((t) => test.columns.includes(t));
  const err = (f: string) => errors[f];

  return (
    <section className="panel" aria-labelledby="columns-title">
      <h2 id="columns-title">Columns</h2>

      <fieldset className="field" aria-describedby={err('target_properties') ? 'field-target_properties-error' : undefined}>
        <legend>Targets to predict</legend>
        <span className="hint">Numeric columns of the reference file. Every reference row must hold a value for each.</span>
        <div className="checkbox-grid" data-testid="targets">
          {numericRef.map((c) => (
            <label key={c} className="checkbox">
              <input
                type="checkbox"
                name="target_properties"
                value={c}
                checked={targets.includes(c)}
                onChange={(e) => props.onTargets(toggle(targets, c, e.target.checked))}
              />
              {c}
            </label>
          ))}
        </div>
        <FieldError id="field-target_properties-error" messages={err('target_properties')} />
        {groundTruth.length ? (
          <span className="hint" data-testid="ground-truth-note">
            The test file also holds {groundTruth.join(', ')}: these measured values are never shown to the model; they
            are only used to score accuracy.
          </span>
        ) : null}
      </fieldset>

      <div className="field">
        <label htmlFor="field-id_column">ID column of the test file</label>
        <select
          id="field-id_column"
          value={idColumn}
          onChange={(e) => props.onIdColumn(e.target.value)}
          aria-invalid={!!err('id_column')}
          aria-describedby={err('id_column') ? 'field-id_column-error' : undefined}
        >
          <option value="">(none — samples are named Sample_1, Sample_2, …)</option>
          {test.columns.map((c) => (
            <option key={c} value={c}>
              {c}
            </option>
          ))}
        </select>
        <FieldError id="field-id_column-error" messages={err('id_column')} />
      </div>

      <fieldset className="field" aria-describedby={err('feature_columns') ? 'field-feature_columns-error' : undefined}>
        <legend>
          Input columns <span className="muted small">({featureColumns.length} of {candidates.length})</span>
        </legend>
        <div className="actions small" style={{ marginBottom: '0.3rem' }}>
          <button type="button" className="btn btn--small" onClick={() => props.onFeaturesAll(true)}>
            Select all
          </button>
          <button type="button" className="btn btn--small" onClick={() => props.onFeaturesAll(false)}>
            Select none
          </button>
        </div>
        <div className="checkbox-grid" data-testid="features">
          {candidates.map((c) => (
            <label key={c} className="checkbox">
              <input
                type="checkbox"
                name="feature_columns"
                value={c}
                checked={featureColumns.includes(c)}
                onChange={(e) => props.onFeatureToggle(c, e.target.checked)}
              />
              {c}
            </label>
          ))}
        </div>
        <FieldError id="field-feature_columns-error" messages={err('feature_columns')} />
      </fieldset>
    </section>
  );
}
