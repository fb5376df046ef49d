  return [numbers.reduce((a, b) => a + b, 0), numbers.reduce((a, b) => a * b, 1)];
}
