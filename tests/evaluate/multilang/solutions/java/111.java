        Map<String, Long> counts = new HashMap<>();
        for (String word : test.split(" ")) {
            if (!word.isEmpty()) counts.merge(word, 1L, Long::sum);
        }
        long most = counts.values().stream().mapToLong(Long::longValue).max().orElse(0);
        Map<String, Long> result = new HashMap<>();
        for (Map.Entry<String, Long> e : counts.entrySet()) {
            if (e.getValue() == most) result.put(e.getKey(), most);
        }
        return result;
    }
}
