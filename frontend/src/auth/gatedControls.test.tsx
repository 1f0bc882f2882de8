/**
 * Cancel and retry are offered to whom the server lets act: an admin on every task, a member on
 * the tasks they started, nobody else (a viewer, or a member on another account's task, reads a
 * note instead). Start is gated elsewhere (guards).
 */
import { fireEvent, render, screen, waitFor } from '@testing-library/react';
import type { ReactNode } from 'react';
import { MemoryRouter } from 'react-router-dom';
import { afterEach, describe, expect, it, vi } from 'vitest';
import type { Me } from '../api/types';
import FailedSamplesPanel from '../pages/task/FailedSamplesPanel';
import TaskHeader from '../pages/task/TaskHeader';
import { json, mockFetch } from '../test/http';
import { me, sample, task } from '../test/fixtures';
import { StaticAuthProvider } from './AuthContext';

const failed = [
  sample(0, { convergence_status: 'failed', failed_iterations: [2], errors: [{ iteration: 2, error_type: 'server_error', message: '500', attempts: 3 }] }),
];

/** me('member') is account #2, me('admin') #1. */
const MEMBER_ID = me('member').id;
const OTHER_ID = 7;

function wrap(user: Me | null, children: ReactNode) {
  return render(
    <MemoryRouter>
      <StaticAuthProvider user={user}>{children}</StaticAuthProvider>
    </MemoryRouter>,
  );
}

const header = (ownerId: number | null) => <TaskHeader task={task({ owner_id: ownerId })} onTask={() => undefined} exportButtons={null} />;
const panel = (ownerId: number | null, samples = failed) => (
  <FailedSamplesPanel taskId={5} ownerId={ownerId} maxIterations={3} samples={samples} finished />
);

afterEach(() => vi.unstubAllGlobals());

describe('cancel', () => {
  it('viewer: no cancel, with the reason', () => {
    wrap(me('viewer'), header(OTHER_ID));
    expect(screen.queryByRole('button', { name: 'Cancel task' })).toBeNull();
    expect(screen.getByTestId('cancel-denied')).toHaveTextContent('Cancelling needs the member role; you are a viewer.');
  });

  it('member: cancel offered on a running task they started', () => {
    wrap(me('member'), header(MEMBER_ID));
    expect(screen.getByRole('button', { name: 'Cancel task' })).toBeEnabled();
    expect(screen.queryByTestId('cancel-denied')).toBeNull();
  });

  it("member: no cancel on another account's task, with who may act", () => {
    wrap(me('member'), header(OTHER_ID));
    expect(screen.queryByRole('button', { name: 'Cancel task' })).toBeNull();
    expect(screen.getByTestId('cancel-denied')).toHaveTextContent('Only the account that started this task, or an admin, may cancel it.');
  });

  it('member: no cancel on a task without owner (single-user era, deleted account)', () => {
    wrap(me('member'), header(null));
    expect(screen.queryByRole('button', { name: 'Cancel task' })).toBeNull();
    expect(screen.getByTestId('cancel-denied')).toHaveTextContent('Only an admin may cancel it');
  });

  it("admin: cancel offered on anyone's task", () => {
    wrap(me('admin'), header(OTHER_ID));
    expect(screen.getByRole('button', { name: 'Cancel task' })).toBeEnabled();
  });

  it("single-user mode: the local admin cancels any task", () => {
    wrap(me('admin', false), header(null));
    expect(screen.getByRole('button', { name: 'Cancel task' })).toBeEnabled();
  });

  it('nobody signed in (no provider data): nothing offered', () => {
    wrap(null, header(null));
    expect(screen.queryByRole('button', { name: 'Cancel task' })).toBeNull();
  });

  it('a finished task offers no cancel and no note', () => {
    wrap(me('member'), <TaskHeader task={task({ owner_id: OTHER_ID, status: 'completed' })} onTask={() => undefined} exportButtons={null} />);
    expect(screen.queryByRole('button', { name: 'Cancel task' })).toBeNull();
    expect(screen.queryByTestId('cancel-denied')).toBeNull();
  });
});

describe('retry', () => {
  it('viewer: failed samples listed, retry not offered', () => {
    wrap(me('viewer'), panel(OTHER_ID));
    expect(screen.getByText('S1')).toBeInTheDocument();
    expect(screen.queryByRole('button', { name: /Retry/ })).toBeNull();
    expect(screen.queryByRole('checkbox')).toBeNull();
    expect(screen.getByTestId('retry-denied')).toHaveTextContent('Retrying needs the member role');
  });

  it('member: retry offered on their own task', () => {
    wrap(me('member'), panel(MEMBER_ID));
    expect(screen.getByRole('button', { name: 'Retry failed (1)' })).toBeEnabled();
    expect(screen.getByRole('checkbox', { name: 'Select S1 for retry' })).toBeInTheDocument();
  });

  it("member: another account's failed samples listed, retry not offered, with who may act", () => {
    wrap(me('member'), panel(OTHER_ID));
    expect(screen.getByText('S1')).toBeInTheDocument();
    expect(screen.queryByRole('button', { name: /Retry/ })).toBeNull();
    expect(screen.queryByRole('checkbox')).toBeNull();
    expect(screen.getByTestId('retry-denied')).toHaveTextContent('Only the account that started this task, or an admin, may retry its samples.');
  });

  it("admin and the single-user local admin: retry offered on anyone's task", () => {
    const { unmount } = wrap(me('admin'), panel(OTHER_ID));
    expect(screen.getByRole('button', { name: 'Retry failed (1)' })).toBeEnabled();
    unmount();
    wrap(me('admin', false), panel(null));
    expect(screen.getByRole('button', { name: 'Retry failed (1)' })).toBeEnabled();
  });

  it('the owner retries a selection of failed and stopped samples', async () => {
    const { calls } = mockFetch({ 'POST /api/iterative-prediction/retry-failed': () => json(200, { new_task_id: 9, original_task_id: 5, retrying_samples: [0, 2], message: 'ok' }) });
    const samples = [
      ...failed,
      sample(1, { sample_id: 'S2', convergence_status: 'converged' }),
      sample(2, {
        sample_id: 'S3',
        convergence_status: 'not_converged',
        converged_at_iteration: null,
        targets: { UTS: { iterations: [800], relative_changes: [null], convergence_status: 'not_converged', converged_at_iteration: null } },
      }),
    ];
    wrap(me('member'), panel(MEMBER_ID, samples));
    expect(screen.getByRole('heading', { name: 'Failed and stopped samples (2)' })).toBeInTheDocument();
    expect(screen.getByRole('button', { name: 'Retry failed and stopped (2)' })).toBeEnabled();
    fireEvent.click(screen.getByRole('checkbox', { name: 'Select S1 for retry' }));
    fireEvent.click(screen.getByRole('checkbox', { name: 'Select S3 for retry' }));
    fireEvent.click(screen.getByRole('button', { name: 'Retry selected (2)' }));
    await waitFor(() => expect(calls).toHaveLength(1));
    expect(calls[0]?.body).toEqual({ task_id: 5, sample_indices: [0, 2] });
  });
});
