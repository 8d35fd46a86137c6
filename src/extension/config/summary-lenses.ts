// What the config editor's code lenses say about the model a config builds:
// at the top, the totals for pretraining and fine-tuning; above the "image",
// "text", "heads", "loss" and "finetune" sections, the trainable and frozen
// parameters of the components they configure. Pure (jsonc-parser), so it is
// unit-tested without VS Code; the numbers come from the engine
// (EngineQueries.modelSummary).
import { parseTree, type Node } from 'jsonc-parser';
import type { ModelSummary, ParamCount, StageSummary } from '../../shared/model-summary';
import type { SummaryState } from './summary-cache';

export interface LensSpec {
  /** where the lens sits: the section's key (or the opening brace for the totals) */
  offset: number;
  length: number;
  title: string;
  tooltip: string;
}

type Component = keyof StageSummary;

/** Config sections and the components they configure, as the engine groups them (src/engine/model/summary.ts). */
export const SECTION_COMPONENTS: readonly (readonly [string, readonly (readonly [Component, string])[]])[] = [
  ['image', [['imageEncoder', 'Image encoder']]],
  ['text', [['textEncoder', 'Text encoder (+ text heads)']]],
  [
    'heads',
    [
      ['heads', 'MLP heads (global image)'],
      ['imageLocalHead', 'Local image head'],
      ['crossAttention', 'Cross-attention'],
    ],
  ],
  ['loss', [['lossWeights', 'Loss weights s_G, s_L']]],
  ['finetune', [['classifier', 'Classifier']]],
];

const fmt = (n: number) => n.toLocaleString('en-US');

/** "31,759,873 trainable / 1,234 frozen" */
export function countText(c: ParamCount): string {
  return `${fmt(c.trainable)} trainable / ${fmt(c.frozen)} frozen`;
}

const used = (c: ParamCount | undefined): c is ParamCount => c !== undefined && c.trainable + c.frozen > 0;

/** "Cross-attention: pretraining 789,504 trainable / 0 frozen" — each stage that has the component; "no parameters" when neither has. */
export function componentText(s: ModelSummary, component: Component, label: string): string {
  const parts: string[] = [];
  if (used(s.pretrain[component])) parts.push(`pretraining ${countText(s.pretrain[component])}`);
  if (used(s.finetune[component])) parts.push(`fine-tuning ${countText(s.finetune[component])}`);
  return `${label}: ${parts.length ? parts.join(' · ') : 'no parameters'}`;
}

const SHOW = 'Click for the model summary (the paper\'s Table 7 layout)';

const COUNTING = 'The engine builds the models this config describes and counts their parameters';

/**
 * The lenses for a config's text in a given state of its count; none when
 * the text is not a JSON object. While a new count is pending, `last` (the
 * previous count of the same file) stays shown, marked as being recounted,
 * so the editor's lines do not jump at every edit.
 */
export function summaryLenses(text: string, state: SummaryState, last?: SummaryState & { kind: 'done' }): LensSpec[] {
  const root = parseTree(text, [], { allowTrailingComma: true, disallowComments: false });
  if (!root || root.type !== 'object') return [];
  const top = { offset: root.offset, length: 1 };
  if (state.kind === 'pending') {
    if (!last) return [{ ...top, title: '$(sync~spin) Counting parameters…', tooltip: COUNTING }];
    const [total, ...rest] = summaryLenses(text, last);
    return [{ ...total!, title: `$(sync~spin) ${total!.title}`, tooltip: `Recounting for the edited config. ${COUNTING}.` }, ...rest];
  }
  if (state.kind === 'error') {
    const first = state.message.split('\n')[0]!;
    return [{ ...top, title: `$(warning) Parameters not counted: ${first.length > 120 ? `${first.slice(0, 119)}…` : first}`, tooltip: state.message }];
  }
  const s = state.result.summary;
  const lenses: LensSpec[] = [
    {
      ...top,
      title: `Parameters: pretraining ${countText(s.pretrain.total)} · fine-tuning ${countText(s.finetune.total)}`,
      tooltip: `${SHOW}\n\n${state.result.table}`,
    },
  ];
  const keys = new Map<string, Node>();
  for (const prop of root.children ?? []) {
    const key = prop.children?.[0];
    if (prop.type === 'property' && key?.type === 'string' && typeof key.value === 'string') keys.set(key.value, key);
  }
  for (const [section, components] of SECTION_COMPONENTS) {
    const key = keys.get(section);
    if (!key) continue;
    for (const [component, label] of components) {
      if (!s.pretrain[component] || !s.finetune[component]) continue; // a component this engine does not report
      lenses.push({ offset: key.offset, length: key.length, title: componentText(s, component, label), tooltip: SHOW });
    }
  }
  return lenses;
}
