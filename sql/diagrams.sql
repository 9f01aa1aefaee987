\set SHOW_CONTEXT never
-- Diagrams: to_dot() and to_mermaid() on workflows with and without groups,
-- several initial and terminal statuses, automatic transitions, several
-- events between two statuses, and labels that need quoting.

SELECT statusflow.create_workflow('rep_diagram',
	ARRAY['draft', 'queued', 'sent', 'bounced', 'opened', 'won', 'say "no"', 'a#b<c>\d'],
	initial => ARRAY['draft', 'queued'], terminal => ARRAY['won', 'say "no"']);
SELECT statusflow.set_status_info('rep_diagram', s, group_name => g)
FROM (VALUES ('draft', 'not sent'), ('queued', 'not sent'), ('sent', 'in "flight"'),
			 ('opened', 'in "flight"'), ('won', 'done'), ('say "no"', 'done')) v(s, g);
SELECT statusflow.add_transition('rep_diagram', ARRAY['draft'], 'queued', event => 'schedule');
SELECT statusflow.add_transition('rep_diagram', ARRAY['draft', 'queued'], 'sent', event => 'send');
SELECT statusflow.add_transition('rep_diagram', ARRAY['sent'], 'bounced', event => 'bounce', kind => 'automatic');
SELECT statusflow.add_transition('rep_diagram', ARRAY['bounced'], 'sent', event => 'resend');
SELECT statusflow.add_transition('rep_diagram', ARRAY['bounced'], 'sent', event => 'fix address');
SELECT statusflow.add_transition('rep_diagram', ARRAY['sent'], 'opened', kind => 'automatic');
SELECT statusflow.add_transition('rep_diagram', ARRAY['opened'], 'won', event => 'accept');
SELECT statusflow.add_transition('rep_diagram', ARRAY['sent', 'opened'], 'say "no"', event => 'decline');
SELECT statusflow.add_transition('rep_diagram', ARRAY['sent'], 'a#b<c>\d');

-- edge labels: the event, and a line for automatic transitions
SELECT from_status, to_status, statusflow_internal.edge_label(t) AS label
FROM statusflow.transitions t WHERE workflow = 'rep_diagram';

\pset format unaligned
\pset tuples_only on
SELECT statusflow.to_dot('rep_diagram');
SELECT statusflow.to_mermaid('rep_diagram');

-- no groups: every status at the top level
SELECT statusflow.create_workflow('rep_plain', ARRAY['a', 'b'], ARRAY['a']);
SELECT statusflow.add_transition('rep_plain', ARRAY['a'], 'b', event => 'go');
SELECT statusflow.to_dot('rep_plain');
SELECT statusflow.to_mermaid('rep_plain');
\pset format aligned
\pset tuples_only off

-- a diagram is built from the catalog only: a status added later shows up
SELECT statusflow.add_status('rep_plain', 'c', after => 'b', group_name => 'later');
SELECT statusflow.to_dot('rep_plain') LIKE '%subgraph "cluster_3" {%label="later";%s3 [label="c"];%' AS has_cluster;

-- guards label their edges; a transition back to the previous status leads
-- to a node "previous status"
SELECT statusflow.create_workflow('rep_guarded', ARRAY['open', 'held', 'closed'], ARRAY['open']);
SELECT statusflow.add_transition('rep_guarded', ARRAY['open'], 'held', event => 'hold',
	roles => ARRAY['pg_read_all_data', 'pg_monitor'], require_reason => true, max_uses => 1);
SELECT statusflow.add_transition('rep_guarded', ARRAY['open'], 'closed',
	condition => 'amount > 0', max_uses => 3);
SELECT statusflow.add_transition('rep_guarded', ARRAY['held'], NULL, event => 'release',
	restore_previous => true);
SELECT statusflow.to_dot('rep_guarded');
SELECT statusflow.to_mermaid('rep_guarded');

-- errors
SELECT statusflow.to_dot('nosuch');
SELECT statusflow.to_mermaid(NULL);
