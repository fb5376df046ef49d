  return values.filter((v) => typeof v === "number" && Number.isInteger(v));
}
