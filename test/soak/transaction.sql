\set id random(1, 200)
SELECT statusflow.fire('soak_items', :id, 'next', actor => 'soak');
