        Optional<Long> largestNegative = lst.stream().filter(v -> v < 0).max(Long::compare);
        Optional<Long> smallestPositive = lst.stream().filter(v -> v > 0).min(Long::compare);
        return Arrays.asList(largestNegative, smallestPositive);
    }
}
