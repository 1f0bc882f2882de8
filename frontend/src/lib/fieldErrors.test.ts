import { describe, expect, it } from 'vitest';
import { GENERAL, fieldOf, mapDetailsToFields } from './fieldErrors';

const FIELDS = ['max_iterations', 'max_workers', 'target_properties', 'test_file_path', 'temperature'];

describe('fieldErrors', () => {
  it('maps each detail to the field it starts with', () => {
    const out = mapDetailsToFields(
      [
        'max_iterations must be between 1 and 10',
        'max_workers must be between 1 and 20',
        'target_properties.0: unknown column',
        "test_file_path: no such dataset file 'x.csv'",
        'something else broke',
      ],
      FIELDS,
    );
    expect(out.max_iterations).toEqual(['max_iterations must be between 1 and 10']);
    expect(out.max_workers).toHaveLength(1);
    expect(out.target_properties).toHaveLength(1);
    expect(out.test_file_path).toHaveLength(1);
    expect(out[GENERAL]).toEqual(['something else broke']);
  });

  it('does not match a field that is only a prefix of a word', () => {
    expect(fieldOf('max_iterations_total is odd', FIELDS)).toBeNull();
    expect(fieldOf('body.temperature: too hot', FIELDS)).toBe('temperature');
  });
});
