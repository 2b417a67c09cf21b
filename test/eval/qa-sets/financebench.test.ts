import { describe, expect, it } from 'vitest';
import { importFinanceBenchJsonl } from '../../../src/eval/qa-sets/financebench.js';
import { jsonl, useTempDir } from './helpers.js';

// Shaped like patronus-ai/financebench data/financebench_open_source.jsonl (texts shortened).
const capex = {
  financebench_id: 'financebench_id_03029',
  company: '3M',
  doc_name: '3M_2018_10K',
  question_type: 'metrics-generated',
  question_reasoning: 'Information extraction',
  domain_question_num: null,
  question: 'What is the FY2018 capital expenditure amount (in USD millions) for 3M?',
  answer: '$1577.00',
  justification: 'The metric capital expenditures was directly extracted from the company 10K.',
  dataset_subset_label: 'OPEN_SOURCE',
  evidence: [
    {
      evidence_text: 'Purchases of property, plant and equipment (PP&E)\n(1,577)',
      doc_name: '3M_2018_10K',
      evidence_page_num: 59,
      evidence_text_full_page: 'Table of Contents\n3M Company and Subsidiaries\n... the whole page ...',
    },
  ],
};
const capitalIntensive = {
  financebench_id: 'financebench_id_00499',
  company: '3M',
  doc_name: '3M_2022_10K',
  question_type: 'domain-relevant',
  question_reasoning: 'Logical reasoning (based on numerical reasoning)',
  domain_question_num: 'dg06',
  question: 'Is 3M a capital-intensive business based on FY2022 data?',
  answer: 'No, the company is managing its CAPEX and Fixed Assets pretty efficiently',
  justification: 'CAPEX/Revenue\nFixed Assets/Total Assets',
  dataset_subset_label: 'OPEN_SOURCE',
  evidence: [
    { evidence_text: 'Net sales\n$\n34,229', doc_name: '3M_2022_10K', evidence_page_num: 47 },
    { evidence_text: 'Total assets\n46,455', doc_name: '3M_2022_10K', evidence_page_num: 48 },
  ],
};

describe('importFinanceBenchJsonl', () => {
  const tmp = useTempDir();

  it('maps doc_name to doc_id, keeps the rest in metadata and reports bad lines', async () => {
    const lines = [
      /* 1 */ JSON.stringify(capex),
      /* 2 */ '',
      /* 3 */ JSON.stringify(capitalIntensive),
      /* 4 */ JSON.stringify({ ...capex, financebench_id: 'financebench_id_1', answer: undefined }),
      /* 5 */ JSON.stringify({ ...capex, question: 'Same id again?' }),
      /* 6 */ JSON.stringify({ ...capex, financebench_id: undefined }),
      /* 7 */ JSON.stringify({ ...capex, financebench_id: 'financebench_id_2', evidence: 'page 59' }),
      /* 8 */ JSON.stringify({
        ...capex,
        financebench_id: 'financebench_id_3',
        evidence: [{ doc_name: 'x' }],
      }),
      /* 9 */ '{"financebench_id": "financebench_id_4", "question": ',
    ];
    const file = await tmp.file('financebench.jsonl', lines.join('\n') + '\n');
    const { items, problems } = await importFinanceBenchJsonl(file);

    expect(items).toEqual([
      {
        id: 'financebench_id_03029',
        question: 'What is the FY2018 capital expenditure amount (in USD millions) for 3M?',
        answer: '$1577.00',
        doc_id: '3M_2018_10K',
        source: 'financebench',
        metadata: {
          company: '3M',
          question_type: 'metrics-generated',
          question_reasoning: 'Information extraction',
          domain_question_num: null,
          justification: 'The metric capital expenditures was directly extracted from the company 10K.',
          dataset_subset_label: 'OPEN_SOURCE',
          evidence: [
            {
              evidence_text: 'Purchases of property, plant and equipment (PP&E)\n(1,577)',
              doc_name: '3M_2018_10K',
              evidence_page_num: 59,
            },
          ],
        },
      },
      {
        id: 'financebench_id_00499',
        question: 'Is 3M a capital-intensive business based on FY2022 data?',
        answer: 'No, the company is managing its CAPEX and Fixed Assets pretty efficiently',
        doc_id: '3M_2022_10K',
        source: 'financebench',
        metadata: {
          company: '3M',
          question_type: 'domain-relevant',
          question_reasoning: 'Logical reasoning (based on numerical reasoning)',
          domain_question_num: 'dg06',
          justification: 'CAPEX/Revenue\nFixed Assets/Total Assets',
          dataset_subset_label: 'OPEN_SOURCE',
          evidence: capitalIntensive.evidence,
        },
      },
    ]);
    expect(problems).toEqual([
      { line: 4, message: '"answer" is missing' },
      { line: 5, message: 'duplicate id "financebench_id_03029" (first on line 1)' },
      { line: 6, message: '"financebench_id" is missing' },
      { line: 7, message: '"evidence" must be a list of evidence objects' },
      { line: 8, message: '"evidence.0.evidence_text" must be a string' },
      { line: 9, message: expect.stringMatching(/^invalid JSON: /) },
    ]);
  });

  it('throws an Error naming a file that cannot be read', async () => {
    const missing = tmp.path('missing.jsonl');
    await expect(importFinanceBenchJsonl(missing)).rejects.toThrow(
      `QA set ${missing}: cannot read: file not found`,
    );
    await expect(importFinanceBenchJsonl(tmp.path(''))).rejects.toThrow(/cannot read: is a directory$/);
  });

  it('returns nothing for an empty file', async () => {
    expect(await importFinanceBenchJsonl(await tmp.file('empty.jsonl', jsonl([]).trim()))).toEqual({
      items: [],
      problems: [],
    });
  });
});
