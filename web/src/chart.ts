import uPlot from 'uplot'
import { h } from './dom.ts'

export interface ChartSeries {
  label: string
  /** Values aligned with the x values; null where the series has no point. */
  values: Array<number | null>
}

export interface Chart {
  el: HTMLElement
  /** Replaces the data: x in ms since the epoch. */
  setData(xs: number[], series: ChartSeries[]): void
  /** Fixes the x range (ms), so the right edge moves with time even without new points. */
  setRange(from: number, to: number): void
  destroy(): void
}

const COLORS = ['#0b63c5', '#d9480f', '#2b8a3e', '#862e9c', '#c2255c', '#5c940d', '#1098ad', '#e67700']

/**
 * A uPlot time-series chart that follows its container's width. The figure is labelled for
 * screen readers; the page shows the latest values as text next to it.
 */
export function createChart(opts: { label: string; height?: number }): Chart {
  const el = h('figure', { class: 'chart', role: 'img', 'aria-label': opts.label })
  let plot: uPlot | undefined
  let labels: string[] = []
  let range: [number, number] | undefined
  let data: uPlot.AlignedData = [[]]

  const width = () => Math.max(280, el.clientWidth || el.parentElement?.clientWidth || 600)
  const build = () => {
    plot?.destroy()
    plot = new uPlot(
      {
        width: width(),
        height: opts.height ?? 300,
        scales: {
          x: { time: true, ...(range ? { range: () => [range![0] / 1000, range![1] / 1000] } : {}) },
        },
        series: [
          {},
          ...labels.map((label, i) => ({
            label,
            stroke: COLORS[i % COLORS.length],
            width: 2,
            spanGaps: true,
          })),
        ],
        axes: [{}, { size: 60 }],
        legend: { live: true },
      },
      data,
      el,
    )
  }
  const resize = new ResizeObserver(() => plot?.setSize({ width: width(), height: opts.height ?? 300 }))
  resize.observe(el)

  return {
    el,
    setData(xs, series) {
      data = [xs.map((x) => x / 1000), ...series.map((s) => s.values)] as uPlot.AlignedData
      const names = series.map((s) => s.label)
      if (!plot || names.join('\n') !== labels.join('\n')) {
        labels = names
        build()
      } else {
        plot.setData(data, !range)
        if (range) plot.setScale('x', { min: range[0] / 1000, max: range[1] / 1000 })
      }
      el.dataset.points = String(xs.length)
    },
    setRange(from, to) {
      range = [from, to]
      plot?.setScale('x', { min: from / 1000, max: to / 1000 })
    },
    destroy() {
      resize.disconnect()
      plot?.destroy()
      plot = undefined
    },
  }
}

/** Joins series with their own timestamps into one x axis (union), nulls where a series has none. */
export function align(series: Array<{ label: string; points: Array<{ ts: number; value: number }> }>): {
  xs: number[]
  series: ChartSeries[]
} {
  const xs = [...new Set(series.flatMap((s) => s.points.map((p) => p.ts)))].sort((a, b) => a - b)
  const index = new Map(xs.map((x, i) => [x, i]))
  return {
    xs,
    series: series.map((s) => {
      const values: Array<number | null> = new Array(xs.length).fill(null)
      for (const p of s.points) values[index.get(p.ts)!] = p.value
      return { label: s.label, values }
    }),
  }
}
