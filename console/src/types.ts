// The API's answers as the console reads them: the server's own types (imported as types only, so nothing of the
// server is bundled), so the console and the API cannot drift apart unnoticed.
import type { z } from 'zod';
import type { ConnectionView, testResultSchema } from '../../shared/domain/connection';
import type { ReconciliationRun, RunItem as ServerRunItem, StagedOperation } from '../../shared/domain/reconciliation';
import type { ProvisioningLogRecord } from '../../shared/domain/user-state';
import type { ImportEntry } from '../../shared/provisioning/import-preview';
import type { LicenceOverview } from '../../shared/provisioning/licence-overview';
import type { MappingTarget, PreviewedProperty } from '../../shared/provisioning/mapping-preview';
import type { RunProgress } from '../../shared/provisioning/run-progress';
import type { getUserState, listUsers, provisionOnDemand } from '../../shared/provisioning/user-admin';

export type { ImportEntry, LicenceOverview, MappingTarget, PreviewedProperty, RunProgress, StagedOperation };
export type Connection = ConnectionView;
export type TestCheck = ConnectionView['lastTest'] extends infer T
  ? T extends { checks: (infer C)[] }
    ? C
    : never
  : never;
export type TestResult = z.infer<typeof testResultSchema>;
export type UserView = Awaited<ReturnType<typeof getUserState>>;
export type UserList = Awaited<ReturnType<typeof listUsers>>;
export type Outcome = Awaited<ReturnType<typeof provisionOnDemand>>;
export type LogRecord = ProvisioningLogRecord;
export type Run = ReconciliationRun;
export type RunItem = ServerRunItem;
