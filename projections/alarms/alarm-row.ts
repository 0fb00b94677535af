// SPDX-License-Identifier: MIT
// An alarm as read back (alarms.ts) and as its transitions record it (transitions.ts): one shape, one home.

export type AlarmStateName = 'active' | 'acknowledged' | 'cleared';
export const alarmStateNames: readonly AlarmStateName[] = ['active', 'acknowledged', 'cleared'];

export interface AlarmRow {
  readonly alarm_id: string;
  readonly rule_id: string;
  readonly rule_name: string;
  readonly rule_type: string;
  readonly rule_version: number;
  readonly target_id: string;
  readonly kind: string | null;
  readonly severity: string;
  readonly state: AlarmStateName;
  readonly raised_at: string;
  readonly reason: string;
  readonly trigger: { event_id?: string | null; values?: Record<string, unknown> };
  readonly acknowledged_at: string | null;
  readonly acknowledged_by: string | null;
  readonly cleared_at: string | null;
  readonly cleared_by: string | null;
  readonly clear_reason: string | null;
  readonly updated_at: string;
}
