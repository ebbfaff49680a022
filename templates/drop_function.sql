DROP {{ target|target }};
