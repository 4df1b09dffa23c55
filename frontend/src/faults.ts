import { FAULTS, faultsSwitchedOn } from '@dice-roller/fault-lab';
import type { Request, Response } from 'express';

/**
 * GET /faults: the fault lab's faults switched on, as this service reads the flag
 * file, for the page. Read-only: only the file switches a fault (npm run fault).
 */
export function listActiveFaults(_req: Request, res: Response): void {
  res.json({
    active: faultsSwitchedOn().map(({ fault, value }) => ({
      fault,
      service: FAULTS[fault].service,
      value,
      summary: FAULTS[fault].summary,
    })),
  });
}
