/**
 * API shapes used by the dashboard: aliases of the types generated from the backend's
 * OpenAPI document (`npm run gen:api` writes schema.d.ts). Never hand-copy a schema here.
 */
import type { components } from './schema';

type Schemas = components['schemas'];
/** Fields the server fills with a default: optional when we send them. */
type WithOptional<T, K extends keyof T> = Omit<T, K> & Partial<Pick<T, K>>;

export type TaskStatus = Schemas['TaskStatus'];
export type EarlyStopReason = Schemas['EarlyStopReason'];
export type Provider = Schemas['Provider'];
export type ColumnType = Schemas['DatasetOut']['column_types'][string];

export type Dataset = Schemas['DatasetOut'];
export type DatasetWithPreview = Schemas['DatasetDetail'];
export type DatasetList = Schemas['DatasetPage'];
export type UploadPreview = Schemas['UploadPreview'];

export type Task = Schemas['TaskOut'];
export type TaskList = Schemas['TaskPage'];
export type Usage = Schemas['Usage'];

export type StartRequest = WithOptional<Schemas['StartRequest'], 'reference_top_k' | 'priority' | 'calibration_samples'>;
export type StartResponse = Schemas['StartResponse'];
export type PromptPreviewRequest = WithOptional<
  Schemas['PromptPreviewRequest'],
  'reference_top_k' | 'sample_index' | 'priority' | 'calibration_samples'
>;
export type PromptPreviewResponse = Schemas['PromptPreview'];
export type Estimate = Schemas['Estimate'];

export type TargetHistory = Schemas['TargetHistory'];
export type SampleError = Schemas['SampleError'];
export type SampleHistory = Schemas['SampleHistory'];
export type GlobalInfo = Schemas['GlobalInfo'];
export type IterationSummary = Schemas['IterationSummary'];
export type IterationHistory = Schemas['IterationHistory'];

export type RetryRequest = Schemas['RetryRequest'];
export type RetryResponse = Schemas['RetryResponse'];

export type ConvergenceStats = Schemas['ConvergenceStats'];

export type AccuracyScores = Schemas['Scores'] & { iteration?: number };
export type RoundScores = Schemas['RoundScores'];
export type TargetAccuracy = Schemas['TargetAccuracy'];
export type ScatterPoint = Schemas['ScatterPoint'];
export type Accuracy = Schemas['Accuracy'];

export type RoundDetail = Schemas['RoundDetail'];
export type Interval = Schemas['Interval'];
export type Comparison = Schemas['Comparison'];
export type ComparedTask = Schemas['ComparedTask'];

export type ErrorEnvelope = Schemas['ErrorEnvelope'];
export type Health = Schemas['HealthOut'];

export type Role = Schemas['Role'];
export type Me = Schemas['MeOut'];
export type LoginRequest = Schemas['LoginRequest'];
export type LoginResponse = Schemas['LoginResponse'];
export type User = Schemas['UserOut'];
export type UserCreate = Schemas['UserCreate'];
export type UserUpdate = Schemas['UserUpdate'];
export type ApiToken = Schemas['TokenOut'];
export type NewApiToken = Schemas['NewToken'];
export type TokenRequest = Schemas['TokenRequest'];
export type AuditEvent = Schemas['AuditOut'];
export type AuditPage = Schemas['AuditPage'];
