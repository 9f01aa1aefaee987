/*
 * Diagrams: a workflow as Graphviz DOT and as a Mermaid flowchart
 *
 * Statuses are nodes in rank order, gathered into a cluster per group;
 * initial statuses are bold and entered from a start point, terminal ones
 * have a double (DOT) or thick (Mermaid) border; each declared transition is
 * an edge labelled by _edge_label(), dashed when automatic (a repeated
 * event is a loop); a transition back to the status held before (one
 * without to_status) leads to a node "previous status".  Actions are
 * written as in UML: "entry / f" and "exit / f" under a status's name,
 * "event / f" on an edge.  Nodes are named s<rank>, so any status label is safe.  Mermaid's state diagrams cannot
 * draw a transition between states of two different composite states, which
 * is common here (a group is not a sub-machine), hence a flowchart.
 */

/*
 * The actions of a workflow on entering a status, leaving it, or on an
 * event (give one), as "prefix f, g": function names, in declaration order.
 */
CREATE FUNCTION statusflow_internal.action_names(workflow text, prefix text,
												 on_enter text, on_leave text,
												 on_event text)
RETURNS text LANGUAGE sql STABLE
SET search_path = pg_catalog, pg_temp
AS $$
	SELECT prefix || string_agg(a.action::regproc::text, ', ' ORDER BY a.id)
	FROM statusflow.action a
	WHERE a.workflow = action_names.workflow
	  AND (a.on_enter = action_names.on_enter OR a.on_leave = action_names.on_leave
		   OR a.on_event = action_names.on_event)
$$;

/*
 * The label of a transition's edge, as lines: its event (with its actions,
 * "event / f"), "(automatic)" for an automatic transition, then its guards
 * (roles, condition, reason, uses), so that a diagram shows who may take an
 * edge, when, and what it does.
 */
CREATE FUNCTION statusflow_internal.edge_label(t statusflow.transitions)
RETURNS text LANGUAGE sql STABLE
SET search_path = pg_catalog, pg_temp
AS $$
	SELECT concat_ws(E'\n',
					 t.event || coalesce(statusflow_internal.action_names(t.workflow, ' / ',
																		  NULL, NULL, t.event), ''),
					 CASE WHEN t.kind = 'automatic' THEN '(automatic)' END,
					 'roles: ' || array_to_string(t.roles, ', '),
					 'if ' || t.condition,
					 CASE WHEN t.require_reason THEN 'reason required' END,
					 CASE WHEN t.max_uses = 1 THEN 'once per row'
						  WHEN t.max_uses > 1 THEN format('at most %s times per row', t.max_uses) END)
$$;

/* A DOT quoted string; a line break becomes a centered line. */
CREATE FUNCTION statusflow_internal.dot_string(s text)
RETURNS text LANGUAGE sql IMMUTABLE
SET search_path = pg_catalog, pg_temp
AS $$
	SELECT '"' || replace(replace(replace(s, '\', '\\'), '"', '\"'), E'\n', '\n')
		   || '"'
$$;

/* A Mermaid quoted string: entity codes for what would end or mark it up. */
CREATE FUNCTION statusflow_internal.mermaid_string(s text)
RETURNS text LANGUAGE sql IMMUTABLE
SET search_path = pg_catalog, pg_temp
AS $$
	SELECT '"' || replace(replace(replace(replace(replace(s, '#', '#35;'),
		'"', '#quot;'), '<', '#lt;'), '>', '#gt;'), E'\n', '<br>') || '"'
$$;

/*
 * The statuses of a workflow as diagram lines, DOT when dot, else Mermaid:
 * one node per status in rank order, the statuses of a group inside a
 * cluster (subgraph) that stands where its first status would.
 */
CREATE FUNCTION statusflow_internal.diagram_nodes(workflow text, dot boolean)
RETURNS text LANGUAGE sql STABLE
SET search_path = pg_catalog, pg_temp
AS $$
	SELECT string_agg(
		CASE WHEN b.group_name IS NULL THEN E'\t' || b.nodes
			 WHEN dot THEN format(E'\tsubgraph "cluster_%s" {\n\t\tlabel=%s;\n'
								  '\t\tlabelloc=b;\n\t\tstyle="rounded,dashed";\n\t\tcolor=gray50;\n'
								  '\t\t%s\n\t}',
								  b.block, statusflow_internal.dot_string(b.group_name),
								  replace(b.nodes, E'\n', E'\n\t\t'))
			 ELSE format(E'\tsubgraph g%s [%s]\n\t\t%s\n\tend',
						 b.block, statusflow_internal.mermaid_string(b.group_name),
						 replace(b.nodes, E'\n', E'\n\t\t')) END,
		E'\n' ORDER BY b.block)
	FROM (SELECT x.block, x.group_name, string_agg(x.node, E'\n' ORDER BY x.rank) AS nodes
		  FROM (SELECT s.rank, s.group_name,
					   min(s.rank) OVER (PARTITION BY coalesce(s.group_name, s.status))
						   AS block,
					   CASE WHEN dot
							THEN format('s%s [label=%s%s%s];', s.rank,
										statusflow_internal.dot_string(s.label),
										CASE WHEN s.is_initial
											 THEN ', style="rounded,bold", penwidth=2' END,
										CASE WHEN s.is_terminal THEN ', peripheries=2' END)
							ELSE format('s%s(%s)', s.rank,
										statusflow_internal.mermaid_string(s.label)) END AS node
				FROM (SELECT y.*,
							 concat_ws(E'\n', y.status,
									   statusflow_internal.action_names(y.workflow, 'entry / ',
																		y.status, NULL, NULL),
									   statusflow_internal.action_names(y.workflow, 'exit / ',
																		NULL, y.status, NULL))
								 AS label
					  FROM statusflow.statuses y
					  WHERE y.workflow = diagram_nodes.workflow) s) x
		  GROUP BY x.block, x.group_name) b
$$;

/*
 * The edges of a workflow's diagram, DOT when dot, else Mermaid: from the
 * start point to each initial status, then one per declared transition,
 * labelled by _edge_label() and dashed when automatic.  A transition back
 * to the status held before (one without to_status) leads to a node
 * "previous status".
 */
CREATE FUNCTION statusflow_internal.diagram_edges(workflow text, dot boolean)
RETURNS text LANGUAGE sql STABLE
SET search_path = pg_catalog, pg_temp
AS $$
	SELECT concat_ws(E'\n',
		(SELECT string_agg(format(CASE WHEN dot THEN E'\tstart -> s%s;'
									   ELSE E'\tstart --> s%s' END, s.rank),
						   E'\n' ORDER BY s.rank)
		 FROM statusflow.statuses s
		 WHERE s.workflow = diagram_edges.workflow AND s.is_initial),
		CASE WHEN bool_or(e.to_node = 'previous') THEN
			CASE WHEN dot THEN E'\tprevious [label="previous status", style="rounded,dashed"];'
				 ELSE E'\tprevious(["previous status"])' END END,
		string_agg(
			CASE WHEN dot
				 THEN format(E'\t%s -> %s [label=%s%s];', e.from_node, e.to_node,
							 statusflow_internal.dot_string(e.label),
							 CASE WHEN e.automatic THEN ', style=dashed' END)
				 ELSE format(E'\t%s %s%s %s', e.from_node,
							 CASE WHEN e.automatic THEN '-.->' ELSE '-->' END,
							 '|' || statusflow_internal.mermaid_string(nullif(e.label, '')) || '|',
							 e.to_node) END,
			E'\n' ORDER BY e.n))
	FROM (SELECT 's' || f.rank AS from_node, coalesce('s' || d.rank, 'previous') AS to_node,
				 statusflow_internal.edge_label(t) AS label, t.kind = 'automatic' AS automatic,
				 row_number() OVER (ORDER BY f.rank, d.rank NULLS LAST, t.event) AS n
		  FROM statusflow.transitions t
		  JOIN statusflow.statuses f
			ON f.workflow = t.workflow AND f.status = t.from_status
		  LEFT JOIN statusflow.statuses d
			ON d.workflow = t.workflow AND d.status = t.to_status
		  WHERE t.workflow = diagram_edges.workflow) e
$$;

/* The workflow in Graphviz DOT: "dot -Tsvg" renders it. */
CREATE FUNCTION statusflow.to_dot(workflow text)
RETURNS text LANGUAGE plpgsql STABLE
SET search_path = pg_catalog, pg_temp
AS $$
DECLARE
	w statusflow.workflow := statusflow_internal.workflow(workflow);
BEGIN
	RETURN concat_ws(E'\n',
		format('digraph %s {', statusflow_internal.dot_string(w.name)),
		format(E'\tlabel=%s;\n\tlabelloc=t;\n\trankdir=LR;\n\tnewrank=true;\n\tfontname="Helvetica";',
			   statusflow_internal.dot_string(w.name)),
		E'\tnode [shape=box, style=rounded, fontname="Helvetica"];',
		E'\tedge [fontname="Helvetica", fontsize=10];',
		E'\tstart [shape=point, width=0.15, label=""];',
		statusflow_internal.diagram_nodes(w.name, true),
		statusflow_internal.diagram_edges(w.name, true),
		'}');
END
$$;

/*
 * The workflow as a Mermaid flowchart, for Markdown pages that render
 * Mermaid: groups are subgraphs, initial and terminal statuses have classes.
 */
CREATE FUNCTION statusflow.to_mermaid(workflow text)
RETURNS text LANGUAGE plpgsql STABLE
SET search_path = pg_catalog, pg_temp
AS $$
DECLARE
	w statusflow.workflow := statusflow_internal.workflow(workflow);
BEGIN
	RETURN concat_ws(E'\n',
		'flowchart LR',
		E'\tstart((" "))',
		statusflow_internal.diagram_nodes(w.name, false),
		statusflow_internal.diagram_edges(w.name, false),
		E'\tclassDef startpoint fill:#000,stroke:#000',
		E'\tclassDef initial font-weight:bold,stroke-width:2px',
		E'\tclassDef terminal stroke-width:4px',
		E'\tclass start startpoint',
		(SELECT E'\tclass ' || string_agg('s' || s.rank, ',' ORDER BY s.rank) || ' initial'
		 FROM statusflow.statuses s WHERE s.workflow = w.name AND s.is_initial),
		(SELECT E'\tclass ' || string_agg('s' || s.rank, ',' ORDER BY s.rank) || ' terminal'
		 FROM statusflow.statuses s WHERE s.workflow = w.name AND s.is_terminal));
END
$$;
