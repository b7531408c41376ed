// Small pieces every page uses: amounts, errors, explorer links, a copy button, an SVG chart.
import { useState } from 'preact/hooks';
import type { ShownError } from './session.js';

/** Micro-credits as credits (1 credit = 1,000,000 µc). */
export function credits(micro: number): string {
  return `${(micro / 1_000_000).toLocaleString('en', { maximumFractionDigits: 6 })} cr`;
}

export function shortHex(value: string, keep = 6): string {
  return value.length > keep * 2 + 3 ? `${value.slice(0, keep + 2)}…${value.slice(-keep)}` : value;
}

export function ErrorBox({ error }: { error: ShownError | null }) {
  if (!error) return null;
  return (
    <p class="error" role="alert">
      {error.detail}
      {error.field ? <span class="field"> (field: {error.field})</span> : null}
    </p>
  );
}

/** A chain value, linked through EXPLORER_URL_PATTERN when the operator set one. */
export function ChainValue({ pattern, kind, value }: { pattern: string | null; kind: 'address' | 'tx' | 'token'; value: string }) {
  const text = <code title={value}>{shortHex(value, 8)}</code>;
  if (!pattern) return text;
  const href = pattern.replaceAll('{kind}', kind).replaceAll('{value}', encodeURIComponent(value));
  return (
    <a href={href} target="_blank" rel="noopener noreferrer">
      {text}
      <span class="visually-hidden"> (opens the block explorer)</span>
    </a>
  );
}

export function CopyButton({ text, label = 'Copy' }: { text: string; label?: string }) {
  const [copied, setCopied] = useState(false);
  return (
    <button
      type="button"
      onClick={async () => {
        await navigator.clipboard.writeText(text);
        setCopied(true);
      }}
    >
      {copied ? 'Copied' : label}
    </button>
  );
}

/** Bars over time, one per label (e.g. a day), scaled to the largest; a table for screen readers. */
export function BarChart({ title, points, unit }: { title: string; points: { label: string; value: number }[]; unit: (v: number) => string }) {
  const width = 320;
  const height = 120;
  const max = Math.max(1, ...points.map((p) => p.value));
  const barWidth = points.length ? width / points.length : width;
  return (
    <figure class="chart">
      <svg viewBox={`-12 0 ${width + 24} ${height + 16}`} role="img" aria-label={title}>
        {points.map((p, i) => {
          const h = (p.value / max) * height;
          return (
            <g key={p.label}>
              <rect x={i * barWidth + 2} y={height - h} width={Math.max(1, barWidth - 4)} height={h} class="bar">
                <title>{`${p.label}: ${unit(p.value)}`}</title>
              </rect>
              {/* Every other day labelled, ending on the newest. */}
              {(points.length - 1 - i) % 2 === 0 ? (
                <text x={i * barWidth + barWidth / 2} y={height + 12} class="tick" text-anchor="middle">
                  {p.label.slice(5)}
                </text>
              ) : null}
            </g>
          );
        })}
      </svg>
      <figcaption>{title}</figcaption>
    </figure>
  );
}

/** A line through (x, y) points, for training loss. */
export function LineChart({ title, values }: { title: string; values: number[] }) {
  const width = 320;
  const height = 120;
  const max = Math.max(...values, 0);
  const min = Math.min(...values, max);
  const span = max - min || 1;
  const step = values.length > 1 ? width / (values.length - 1) : 0;
  const path = values.map((v, i) => `${i ? 'L' : 'M'}${(i * step).toFixed(1)},${(height - ((v - min) / span) * (height - 8) - 4).toFixed(1)}`).join(' ');
  return (
    <figure class="chart">
      <svg viewBox={`0 0 ${width} ${height}`} role="img" aria-label={`${title}: ${values.map((v) => v.toFixed(3)).join(', ')}`}>
        <path d={path} class="line" fill="none" />
      </svg>
      <figcaption>{title}</figcaption>
    </figure>
  );
}

/** A labelled text box (one line, or several with `rows`). */
export function TextField(props: { id: string; label: string; value: string; onValue(v: string): void; rows?: number; required?: boolean; pattern?: string }) {
  const { id, label, value, onValue, rows, required, pattern } = props;
  const onInput = (e: Event) => onValue((e.target as HTMLInputElement | HTMLTextAreaElement).value);
  return (
    <p class="field">
      <label for={id}>{label}</label>
      {rows ? (
        <textarea id={id} rows={rows} value={value} onInput={onInput} required={required} />
      ) : (
        <input id={id} value={value} onInput={onInput} required={required} pattern={pattern} />
      )}
    </p>
  );
}
