import { z } from 'zod'

// What `GET /api/v1/telemetry/…` answers, and the console charts.
const telemetryPointSchema = z
  .object({
    ts: z.number().int().describe('reading time, or bucket start (ms since the epoch)'),
    value: z.number().describe('the reading, or the bucket average'),
    min: z.number().optional(),
    max: z.number().optional(),
    count: z.number().int().optional(),
    last: z.number().optional(),
  })
  .meta({ id: 'TelemetryPoint' })

export const telemetrySeriesViewSchema = z
  .object({
    device: z.string(),
    metric: z.string(),
    from: z.number().int(),
    to: z.number().int(),
    resolution: z.string().describe('`raw`, or the bucket width (`10s`, `5m`, `1h`, `1d`)'),
    source: z.enum(['raw', 'minute', 'hour']).describe('which table answered'),
    stepMs: z.number().int().describe('bucket width in ms; 0 for raw readings'),
    points: z.array(telemetryPointSchema),
  })
  .meta({ id: 'TelemetrySeries' })

export const telemetryLatestViewSchema = z
  .object({
    items: z.array(
      z.object({ device: z.string(), metric: z.string(), ts: z.number().int(), value: z.number() }),
    ),
  })
  .meta({ id: 'TelemetryLatest' })
export type TelemetryPoint = z.infer<typeof telemetryPointSchema>
export type TelemetrySeriesView = z.infer<typeof telemetrySeriesViewSchema>
export type TelemetryLatestView = z.infer<typeof telemetryLatestViewSchema>
