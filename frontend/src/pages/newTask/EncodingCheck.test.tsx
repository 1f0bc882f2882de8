import { render, screen } from '@testing-library/react';
import userEvent from '@testing-library/user-event';
import { afterEach, describe, expect, it, vi } from 'vitest';
import { json, mockFetch } from '../../test/http';
import EncodingCheck, { isUtf8 } from './EncodingCheck';

afterEach(() => vi.unstubAllGlobals());

const cp1252 = new Uint8Array([0x54, 0x20, 0x28, 0xb0, 0x43, 0x29, 0x0a, 0x32, 0x35, 0x0a]); // "T (°C)\n25\n"

describe('EncodingCheck', () => {
  it('tells UTF-8 files from others', async () => {
    expect(await isUtf8(new Blob(['T (°C)\n25\n']))).toBe(true);
    expect(await isUtf8(new Blob([cp1252]))).toBe(false);
  });

  it('shows the decoded header, tries another encoding, stores with the chosen one', async () => {
    const { calls } = mockFetch({
      'POST /api/datasets/preview': (req) => {
        const encoding = String((req.body as FormData).get('encoding'));
        const header = encoding === 'gb18030' ? 'T (癈)' : 'T (°C)';
        return json(200, { encoding, rows: 1, columns: [header], column_types: {}, preview: [] });
      },
    });
    const onStore = vi.fn();
    const file = new File([cp1252], 'eu.csv');
    const first = { encoding: 'cp1252', rows: 1, columns: ['T (°C)'], column_types: {}, preview: [] };
    render(<EncodingCheck file={file} preview={first} onStore={onStore} onCancel={() => {}} />);
    expect(screen.getByTestId('decoded-header')).toHaveTextContent('T (°C)');
    expect(screen.getByText(/read as Windows-1252/)).toBeInTheDocument();

    await userEvent.selectOptions(screen.getByLabelText('Encoding'), 'gb18030');
    expect(await screen.findByText('T (癈)')).toBeInTheDocument();
    expect(calls[0]?.path).toBe('/api/datasets/preview');
    await userEvent.selectOptions(screen.getByLabelText('Encoding'), 'cp1252');
    expect(await screen.findByText('T (°C)')).toBeInTheDocument();
    await userEvent.click(screen.getByRole('button', { name: 'Store this file' }));
    expect(onStore).toHaveBeenCalledWith('cp1252');
  });
});
