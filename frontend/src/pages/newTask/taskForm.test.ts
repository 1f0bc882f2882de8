import { describe, expect, it } from 'vitest';
import { guessIdColumn, initialForm, LIMITS, PRIORITY, toStartRequest, validateForm } from './taskForm';
import type { TaskForm } from './taskForm';

function validForm(patch: Partial<TaskForm> = {}): TaskForm {
  return {
    ...initialForm(),
    task_name: 'MPEA run',
    test_file_path: 'datasets/test.csv',
    reference_file_path: 'datasets/ref.csv',
    target_properties: ['UTS(MPa)'],
    feature_columns: ['Al(at%)', 'Co(at%)'],
    ...patch,
  };
}

describe('validateForm', () => {
  it('accepts the defaults with files and a target', () => {
    expect(validateForm(validForm())).toEqual({});
  });

  it('requires a name, both files and at least one target', () => {
    const errors = validateForm({ ...initialForm(), task_name: '  ' });
    expect(Object.keys(errors).sort()).toEqual(['reference_file_path', 'target_properties', 'task_name', 'test_file_path']);
    expect(errors.task_name?.[0]).toMatch(/^task_name/);
  });

  it.each([
    ['max_iterations', '0', true],
    ['max_iterations', '1', false],
    ['max_iterations', '10', false],
    ['max_iterations', '11', true],
    ['max_iterations', '2.5', true],
    ['max_iterations', '', true],
    ['convergence_threshold', '0.0009', true],
    ['convergence_threshold', '0.001', false],
    ['convergence_threshold', '0.1', false],
    ['convergence_threshold', '0.11', true],
    ['max_workers', '0', true],
    ['max_workers', '20', false],
    ['max_workers', '21', true],
    ['temperature', '-0.1', true],
    ['temperature', '0', false],
    ['temperature', '2', false],
    ['temperature', '2.01', true],
    ['temperature', 'abc', true],
    ['reference_top_k', '51', true],
  ] as const)('%s = %s invalid: %s', (field, value, invalid) => {
    const errors = validateForm(validForm({ [field]: value }));
    expect(field in errors).toBe(invalid);
    if (invalid) {
      const { min, max } = LIMITS[field];
      expect(errors[field]?.[0]).toContain(`${field} must be`);
      expect(errors[field]?.[0]).toContain(`between ${min} and ${max}`);
    }
  });

  it('rejects targets used as inputs and a name over 255 characters', () => {
    const errors = validateForm(validForm({ feature_columns: ['UTS(MPa)'], task_name: 'x'.repeat(256) }));
    expect(errors.feature_columns?.[0]).toMatch(/^feature_columns/);
    expect(errors.task_name?.[0]).toMatch(/255/);
  });

  it.each([
    ['priority', '0', false],
    ['priority', '-1000', false],
    ['priority', '1000', false],
    ['priority', '1001', true],
    ['priority', '-1001', true],
    ['priority', '1.5', true],
    ['priority', '', true],
  ] as const)('priority = %s invalid: %s', (field, value, invalid) => {
    const errors = validateForm(validForm({ [field]: value }));
    expect(field in errors).toBe(invalid);
    if (invalid) expect(errors.priority?.[0]).toContain(`priority must be`);
    if (invalid) expect(errors.priority?.[0]).toContain(`between ${PRIORITY.min} and ${PRIORITY.max}`);
  });

  it.each([
    ['', false],
    ['0.5', false],
    ['0.01', false],
    ['12', false],
    ['0', true],
    ['-1', true],
    ['abc', true],
  ])('max_cost_usd = %j invalid for an LLM: %s', (value, invalid) => {
    const errors = validateForm(validForm({ llm_provider: 'openai', llm_model: 'gpt-4o-mini', max_cost_usd: value }));
    expect('max_cost_usd' in errors).toBe(invalid);
    if (invalid) expect(errors.max_cost_usd?.[0]).toMatch(/^max_cost_usd must be .* greater than 0/);
  });

  it('ignores a budget left over when the baseline is chosen', () => {
    expect(validateForm(validForm({ max_cost_usd: '-1' }))).toEqual({});
  });

  it('requires a model', () => {
    expect(validateForm(validForm({ llm_provider: 'openai', llm_model: ' ' })).llm_model).toBeDefined();
  });
});

describe('toStartRequest', () => {
  it('converts numbers, always enables iteration and omits empty optionals', () => {
    const body = toStartRequest(validForm({ max_iterations: '3', convergence_threshold: '0.02', id_column: '' }));
    expect(body).toMatchObject({ max_iterations: 3, convergence_threshold: 0.02, enable_iteration: true, max_workers: 5, temperature: 0.7 });
    expect(body).not.toHaveProperty('id_column');
    expect(body).not.toHaveProperty('task_description');
  });

  it('sends the priority, and the budget only when one is given for an LLM', () => {
    const llm = { llm_provider: 'openai', llm_model: 'gpt-4o-mini' } as const;
    expect(toStartRequest(validForm())).toMatchObject({ priority: 0 });
    expect(toStartRequest(validForm({ ...llm }))).not.toHaveProperty('max_cost_usd');
    expect(toStartRequest(validForm({ ...llm, priority: '-5', max_cost_usd: ' 0.25 ' }))).toMatchObject({ priority: -5, max_cost_usd: 0.25 });
    expect(toStartRequest(validForm({ max_cost_usd: '0.25' }))).not.toHaveProperty('max_cost_usd');
  });
});

describe('guessIdColumn', () => {
  it('finds the usual ID column names', () => {
    expect(guessIdColumn(['Formula', 'ID'])).toBe('ID');
    expect(guessIdColumn(['sample_id', 'x'])).toBe('sample_id');
    expect(guessIdColumn(['x'])).toBe('');
  });
});
