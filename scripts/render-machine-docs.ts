import { consumerMachine } from '../src/machines/consumer-machine.js';
import { dispatchWorkerMachine } from '../src/machines/dispatch-worker-machine.js';
import { machineGraph, toMermaid } from '../src/machines/machine-graph.js';
import { supervisorMachine } from '../src/machines/supervisor-machine.js';

const machines = { consumer: consumerMachine, worker: dispatchWorkerMachine, supervisor: supervisorMachine };

/** Replace each `<!-- diagram:NAME -->…<!-- /diagram -->` block with the machine's current diagram. */
export function renderMachineDocs(text: string): string {
  return text.replace(/<!-- diagram:(\w+) -->[\s\S]*?<!-- \/diagram -->/g, (_, name: string) => {
    const machine = machines[name as keyof typeof machines];
    if (!machine) throw new Error(`Unknown machine "${name}" in a diagram marker`);
    return `<!-- diagram:${name} -->\n\`\`\`mermaid\n${toMermaid(machineGraph(machine))}\n\`\`\`\n<!-- /diagram -->`;
  });
}
