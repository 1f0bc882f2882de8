import { render, screen, within } from '@testing-library/react';
import userEvent from '@testing-library/user-event';
import { MemoryRouter } from 'react-router-dom';
import { afterEach, describe, expect, it, vi } from 'vitest';
import type { ApiToken } from '../../api/types';
import { StaticAuthProvider } from '../../auth/AuthContext';
import { me } from '../../test/fixtures';
import { json, mockFetch } from '../../test/http';
import TokensPage, { parseExpiryDays, tokenState } from './TokensPage';

afterEach(() => vi.unstubAllGlobals());

const row = (p: Partial<ApiToken> = {}): ApiToken => ({
  id: 1,
  name: 'notebook',
  prefix: 'ipt_abcd',
  user_id: 2,
  created_at: '2026-01-01T00:00:00Z',
  expires_at: null,
  last_used_at: null,
  revoked_at: null,
  ...p,
});

describe('tokens', () => {
  it('parses the optional expiry', () => {
    expect(parseExpiryDays('')).toEqual({ days: null });
    expect(parseExpiryDays('30')).toEqual({ days: 30 });
    expect(parseExpiryDays('0').error).toMatch(/between 1 and 3650/);
    expect(parseExpiryDays('1.5').error).toBeDefined();
  });

  it('tells active, expired and revoked apart', () => {
    expect(tokenState(row())).toBe('active');
    expect(tokenState(row({ expires_at: '2020-01-01T00:00:00Z' }))).toBe('expired');
    expect(tokenState(row({ revoked_at: '2026-01-02T00:00:00Z' }))).toBe('revoked');
  });

  it('creates a token, shows it once with a copy button, then forgets it', async () => {
    let list: ApiToken[] = [];
    const { calls } = mockFetch({
      'GET /api/auth/tokens': () => json(200, list),
      'POST /api/auth/tokens': (req) => {
        list = [row({ name: (req.body as { name: string }).name })];
        return json(201, { ...list[0], token: 'ipt_abcd_the_secret_part' });
      },
    });
    const writeText = vi.fn(() => Promise.resolve());
    vi.stubGlobal('navigator', { ...navigator, clipboard: { writeText } });
    vi.stubGlobal('isSecureContext', true);
    render(
      <MemoryRouter>
        <StaticAuthProvider user={me('member')}>
          <TokensPage />
        </StaticAuthProvider>
      </MemoryRouter>,
    );
    expect(await screen.findByText('No tokens yet.')).toBeInTheDocument();
    await userEvent.click(screen.getByRole('button', { name: 'Create token' }));
    expect(screen.getByLabelText('Name')).toHaveAccessibleDescription(/Give the token a name/);

    await userEvent.type(screen.getByLabelText('Name'), 'notebook');
    await userEvent.type(screen.getByLabelText('Expires after (days, optional)'), '30');
    await userEvent.click(screen.getByRole('button', { name: 'Create token' }));
    const notice = await screen.findByTestId('new-token');
    expect(notice).toHaveTextContent("you won't see it again");
    expect(within(notice).getByLabelText('New API token')).toHaveValue('ipt_abcd_the_secret_part');
    expect(calls.find((c) => c.method === 'POST')!.body).toEqual({ name: 'notebook', expires_in_days: 30 });

    await userEvent.click(within(notice).getByRole('button', { name: 'Copy' }));
    expect(writeText).toHaveBeenCalledWith('ipt_abcd_the_secret_part');
    expect(await within(notice).findByText('Copied to the clipboard.')).toBeInTheDocument();

    await userEvent.click(within(notice).getByRole('button', { name: 'Done' }));
    expect(screen.queryByText('ipt_abcd_the_secret_part')).toBeNull();
    expect(screen.queryByDisplayValue('ipt_abcd_the_secret_part')).toBeNull();
    expect(screen.getByTestId('tokens-table')).toHaveTextContent('ipt_abcd…');
  });
});
