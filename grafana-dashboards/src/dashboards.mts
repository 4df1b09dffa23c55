/** Every dashboard Grafana loads, by its file name in grafana-dashboards/. */
import type * as dashboard from '@grafana/grafana-foundation-sdk/dashboard';
import { diceRollerDashboard } from './dice-roller.mts';

export const DASHBOARDS: Record<string, () => dashboard.Dashboard> = {
  'dice-roller.json': diceRollerDashboard,
};
