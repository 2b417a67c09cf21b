import type { ChatCompletionRequestBody, ScriptedReply } from './scripted-server.js';

/**
 * A deterministic stand-in for an LLM that answers the study prompts (stage 1, stage 2, baselines) the way
 * a real model would in shape: strategy lists under ## headings, applications, paraphrases, QA pairs,
 * entity lists. Replies depend on the request's seed, so reps differ, and on the document, so chunks differ.
 */
export function studyResponder(body: ChatCompletionRequestBody): ScriptedReply {
  const user = body.messages.find((m) => m.role === 'user')?.content ?? '';
  const document = /<document>\n?([\s\S]*?)\n?<\/document>/.exec(user)?.[1] ?? '';
  const title = document.split('\n')[0] ?? 'the document';
  const seed = body.seed ?? 0;
  const words = document.match(/[A-Za-z][a-z]+/g) ?? ['nothing'];
  const pick = (k: number) => words[(seed + k * 7) % words.length];

  if (/Which learning strategies would work best/.test(user)) {
    return reply(
      `Here are strategies for ${title}:\n\n` +
        `## 1. **Timeline of ${title}**\nOrder the events of the document by date and recite them (variant ${seed % 97}).\n\n` +
        `## 2. **Mnemonic for ${pick(1)}**\nBuild an acronym linking ${pick(2)} and ${pick(3)} to the key facts.\n\n` +
        `## 3. **Self-test**\nWrite questions about ${pick(4)} and answer them without looking.\n\n` +
        'By using these strategies you will remember the document.',
    );
  }
  if (/write a line containing only <start_strategies>/.test(user)) {
    return reply(
      `1. What is ${title}?\n2. What is said about ${pick(1)}?\n3. How does ${pick(2)} relate to ${pick(3)}?\n` +
        '<start_strategies>\n' +
        `## Definition drill\nRestate what ${title} is in one sentence, then check it (seed ${seed % 89}).\n` +
        `## Detail recall\nList every detail about ${pick(1)} from memory, step by step.\n`,
    );
  }
  if (/Here is a learning strategy:/.test(user)) {
    const strategy = /Here is a learning strategy:\n([^\n]*)/.exec(user)?.[1] ?? '';
    return reply(
      `Applying "${strategy.replace(/[*#]/g, '').trim()}" to ${title}: ` +
        `${document.replace(/\s+/g, ' ').slice(0, 400)} In short, ${title} is about ${pick(5)} and ${pick(6)}; ` +
        'reviewing these facts in this structured way makes them easier to recall later.',
    );
  }
  if (/^Rewrite the document below/.test(user)) {
    return reply(
      `Rewritten (${seed % 101}): ${document.replace(/\s+/g, ' ')} This restates every fact of ${title}.`,
    );
  }
  if (/^Write question and answer pairs/.test(user)) {
    return reply(
      `Q: What is ${title} about?\nA: It is about ${pick(1)} and ${pick(2)}.\n` +
        `Q: Which detail concerns ${pick(3)} in ${title}?\nA: The document mentions ${pick(4)} (${seed % 83}).\n`,
    );
  }
  if (/^List the important entities/.test(user)) {
    const names = [...new Set(document.match(/\b[A-Z][a-z]+(?: [A-Z][a-z]+)*/g) ?? [])].slice(0, 6);
    return reply(names.map((n, i) => (i % 2 ? `- ${n}` : `${i + 1}. ${n}`)).join('\n'));
  }
  const pair = /explain how "([^"]+)" and "([^"]+)" relate/.exec(user);
  if (pair) {
    return reply(
      `${pair[1]} and ${pair[2]} are connected in ${title}: the document describes ${pair[1]} together with ` +
        `${pair[2]}, and mentions ${pick(1)}, ${pick(2)} and ${pick(3)} when it explains the relation (${seed % 79}).`,
    );
  }
  return reply(`Unrecognised prompt: ${user.slice(0, 60)}`);
}

function reply(text: string): ScriptedReply {
  return { text, completionTokens: text.split(/\s+/).filter(Boolean).length };
}
