/** Start, cancel and retry are not offered to a viewer; a member gets them. */
import { render, screen } from '@testing-library/react';
import type { ReactNode } from 'react';
import { MemoryRouter } from 'react-router-dom';
import { describe, expect, it } from 'vitest';
import type { Me } from '../api/types';
import FailedSamplesPanel from '../pages/task/FailedSamplesPanel';
import TaskHeader from '../pages/task/TaskHeader';
import { me, sample, task } from '../test/fixtures';
import { StaticAuthProvider } from './AuthContext';

const failed = [
  sample(0, { convergence_status: 'failed', failed_iterations: [2], errors: [{ iteration: 2, error_type: 'server_error', message: '500', attempts: 3 }] }),
];

function wrap(user: Me | null, children: ReactNode) {
  return render(
    <MemoryRouter>
      <StaticAuthProvider user={user}>{children}</StaticAuthProvider>
    </MemoryRouter>,
  );
}

describe('role-gated task controls', () => {
  it('viewer: no cancel, with the reason', () => {
    wrap(me('viewer'), <TaskHeader task={task()} onTask={() => undefined} exportButtons={null} />);
    expect(screen.queryByRole('button', { name: 'Cancel task' })).toBeNull();
    expect(screen.getByTestId('cancel-denied')).toHaveTextContent('needs the member role');
  });

  it('member: cancel offered on a running task', () => {
    wrap(me('member'), <TaskHeader task={task()} onTask={() => undefined} exportButtons={null} />);
    expect(screen.getByRole('button', { name: 'Cancel task' })).toBeEnabled();
  });

  it('nobody signed in (no provider data): nothing offered', () => {
    wrap(null, <TaskHeader task={task()} onTask={() => undefined} exportButtons={null} />);
    expect(screen.queryByRole('button', { name: 'Cancel task' })).toBeNull();
  });

  it('viewer: failed samples listed, retry not offered', () => {
    wrap(me('viewer'), <FailedSamplesPanel taskId={5} samples={failed} finished />);
    expect(screen.getByText('S1')).toBeInTheDocument();
    expect(screen.queryByRole('button', { name: /Retry/ })).toBeNull();
    expect(screen.queryByRole('checkbox')).toBeNull();
    expect(screen.getByTestId('retry-denied')).toBeInTheDocument();
  });

  it('member: retry offered', () => {
    wrap(me('member'), <FailedSamplesPanel taskId={5} samples={failed} finished />);
    expect(screen.getByRole('button', { name: 'Retry failed (1)' })).toBeEnabled();
    expect(screen.getByRole('checkbox', { name: 'Select S1 for retry' })).toBeInTheDocument();
  });
});
