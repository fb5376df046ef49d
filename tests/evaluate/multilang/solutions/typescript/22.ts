  return values.filter((v): v is number => typeof v === "number" && Number.isInteger(v));
}
