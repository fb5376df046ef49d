        double low = Collections.min(numbers), high = Collections.max(numbers);
        List<Double> out = new ArrayList<>();
        for (double x : numbers) out.add((x - low) / (high - low));
        return out;
    }
}
