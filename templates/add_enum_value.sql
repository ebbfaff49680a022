ALTER TYPE {{ enum_name|qname }} ADD VALUE IF NOT EXISTS {{ value|literal }}{% if before is not none %} BEFORE {{ before|literal }}{% elif after is not none %} AFTER {{ after|literal }}{% endif %};
