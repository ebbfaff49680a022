{#- Options back to their default are reset, so the view reads as if created that way. -#}
ALTER VIEW {{ view.name|qname }} {% if view.security_invoker %}SET (security_invoker = true){% else %}RESET (security_invoker){% endif %};
ALTER VIEW {{ view.name|qname }} {% if view.security_barrier %}SET (security_barrier = true){% else %}RESET (security_barrier){% endif %};
