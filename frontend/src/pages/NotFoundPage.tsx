import { Link } from 'react-router-dom';
import { EmptyState } from '../components/Feedback';

export default function NotFoundPage() {
  return (
    <EmptyState title="This page does not exist.">
      <Link to="/tasks">Go to the task list</Link>
    </EmptyState>
  );
}
